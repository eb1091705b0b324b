import { stringify } from 'yaml';
import { envRefName, readEnvRef } from '../../src/config/env-refs';
import { BASE_ENV, baseConfig, load, loadError } from './fixtures';

const SECRET = 'xoxb-9999-SUPERSECRET-abcdef';

function expectNoSecret(error: Error & { issues?: readonly unknown[] }, secret = SECRET) {
  expect(error.message).not.toContain(secret);
  expect(String(error.stack)).not.toContain(secret);
  expect(JSON.stringify(error.issues)).not.toContain(secret);
}

describe('secrets never appear in error messages', () => {
  test('an inline secret is refused without echoing it', () => {
    const config = baseConfig();
    config.adapters.slack.botToken = SECRET;
    const error = loadError(config);
    expect(error.message).toContain('adapters.slack.botToken');
    expectNoSecret(error);
  });

  test('an inline secret in every secret field of every adapter', () => {
    const config = baseConfig();
    config.aws.accounts[0].assumeRoleArn = 'arn:aws-cn:iam::111122223333:role/jitbot';
    config.aws.accounts[0].externalId = SECRET;
    config.adapters = {
      slack: { botToken: SECRET, signingSecret: SECRET, appToken: SECRET },
      teams: {
        appId: '11111111-2222-3333-4444-555555555555',
        appPassword: SECRET,
        tenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      },
      feishu: {
        mode: 'http',
        appId: 'cli_a1b2c3d4e5f60718',
        appSecret: SECRET,
        encryptKey: SECRET,
        verificationToken: SECRET,
      },
      dingtalk: { clientId: 'c', clientSecret: SECRET },
    };
    const error = loadError(config);
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'aws.accounts[0].externalId',
      'adapters.slack.botToken',
      'adapters.slack.signingSecret',
      'adapters.slack.appToken',
      'adapters.teams.appPassword',
      'adapters.feishu.appSecret',
      'adapters.feishu.encryptKey',
      'adapters.feishu.verificationToken',
      'adapters.dingtalk.clientSecret',
    ]);
    expectNoSecret(error);
  });

  test('a secret of the wrong type (a mapping holding the value)', () => {
    const config = baseConfig();
    config.adapters.slack.botToken = { value: SECRET };
    expectNoSecret(loadError(config));
  });

  test('a secret on a line with a YAML syntax error', () => {
    const text = stringify(baseConfig()).replace('botToken: ${SLACK_BOT_TOKEN}', `botToken: "${SECRET}" [oops`);
    const error = loadError(text);
    expect(error.message).toMatch(/^jitbot\.yaml:\d+:\d+: YAML syntax error/);
    expectNoSecret(error);
  });

  test('a secret in a duplicated key', () => {
    const text = stringify(baseConfig()).replace(
      'botToken: ${SLACK_BOT_TOKEN}',
      `botToken: \${SLACK_BOT_TOKEN}\n    botToken: ${SECRET}`,
    );
    expectNoSecret(loadError(text));
  });

  test('a secret pasted under a misspelt key', () => {
    const config = baseConfig();
    config.adapters.slack.bot_token = SECRET;
    const error = loadError(config);
    expect(error.message).toContain('adapters.slack.bot_token: unknown key');
    expectNoSecret(error);
  });

  test('environment values do not leak when something else is wrong', () => {
    const config = baseConfig();
    config.locale = 'xx';
    const env = { ...BASE_ENV, SLACK_BOT_TOKEN: SECRET };
    expectNoSecret(loadError(config, env));
    config.locale = 'en';
    config.policies[0].levels[0].roles = ['nobody'];
    expectNoSecret(loadError(config, env));
  });
});

describe('environment references', () => {
  test('interpolates ${VAR} from the injected environment only', () => {
    const before = process.env.SLACK_BOT_TOKEN;
    process.env.SLACK_BOT_TOKEN = 'from-process-env';
    try {
      expect(load(baseConfig(), { ...BASE_ENV, SLACK_BOT_TOKEN: SECRET }).adapters.slack).toMatchObject({
        botToken: SECRET,
      });
      expect(() => load(baseConfig(), { SLACK_SIGNING_SECRET: 's' })).toThrow(
        'environment variable SLACK_BOT_TOKEN is not set',
      );
    } finally {
      if (before === undefined) delete process.env.SLACK_BOT_TOKEN;
      else process.env.SLACK_BOT_TOKEN = before;
    }
  });

  test('an empty variable counts as unset', () => {
    expect(() => load(baseConfig(), { ...BASE_ENV, SLACK_BOT_TOKEN: '' })).toThrow(
      'environment variable SLACK_BOT_TOKEN is not set',
    );
  });

  test('only whole-value references are accepted', () => {
    const config = baseConfig();
    config.adapters.slack.botToken = 'Bearer ${SLACK_BOT_TOKEN}';
    expect(loadError(config).message).toContain('adapters.slack.botToken: secrets must not be written in the file');
  });

  test('envRefName and readEnvRef', () => {
    expect(envRefName('${A_1}')).toBe('A_1');
    expect(envRefName('$A')).toBeUndefined();
    expect(envRefName('${1A}')).toBeUndefined();
    expect(readEnvRef('${X}', { X: 'v' })).toEqual({ ok: true, value: 'v' });
    expect(readEnvRef('${X}', {})).toEqual({ ok: false, problem: 'environment variable X is not set' });
  });
});
