import { z } from 'zod';
import { stringify } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { checkConfigText, jitbotJsonSchema, parseConfigText } from '../../src/config/load';
import { defineAdapterModule, type AdapterModule } from '../../src/ports/adapter-module';
import { BASE_ENV, baseConfig, load, loadError } from './fixtures';

// `adapters.<name>` sections come from the adapter modules in adapters/index.ts: a listed adapter's section is
// checked by its own schema and normalise, a platform without an adapter is refused, and adding a module to the
// list is all it takes for its section to be accepted.

/** A throwaway adapter module with a required key and a secret, as a new platform would bring. */
const chatterModule = defineAdapterModule({
  name: 'dingtalk',
  schema: (kit) =>
    z.strictObject({
      clientId: z.string().min(1),
      clientSecret: kit.secret('DINGTALK_CLIENT_SECRET'),
      apiUrl: z.url().default('https://api.dingtalk.com'),
    }),
  normalise: (section, context) => {
    if (section.clientId.startsWith('manager')) context.problem('clientId', 'expected the app key, not a user id');
    return { ...section, clientSecret: context.secret('clientSecret', section.clientSecret, { required: true }) ?? '' };
  },
  create: () => {
    throw new Error('not started in these tests');
  },
});

/** This jitbot's adapters with the throwaway module in the real DingTalk adapter's place. */
const WITH_DINGTALK: readonly AdapterModule[] = [
  ...ADAPTERS.filter((module) => module.name !== 'dingtalk'),
  chatterModule,
];

/** A jitbot built without two of the platforms it knows of. */
const WITHOUT_TEAMS_AND_DINGTALK = ADAPTERS.filter((module) => module.name !== 'teams' && module.name !== 'dingtalk');

function loadWith(adapters: readonly AdapterModule[], config: unknown, env = BASE_ENV) {
  return parseConfigText(stringify(config), 'jitbot.yaml', { env, adapters });
}

function problemsWith(adapters: readonly AdapterModule[], config: unknown, env = BASE_ENV): string[] {
  return checkConfigText(stringify(config), { env, adapters }).issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe('platforms without an adapter', () => {
  test.each(['teams', 'dingtalk'])('an enabled %s section is an error that says so', (platform) => {
    const config = baseConfig();
    config.adapters[platform] = { appId: 'x' };
    expect(problemsWith(WITHOUT_TEAMS_AND_DINGTALK, config)).toEqual([
      `adapters.${platform}: this version of jitbot has no ${platform} adapter yet (adapters: console, slack, feishu): ` +
        'remove the section or set enabled: false',
    ]);
  });

  test('a disabled one is ignored, whatever it holds', () => {
    const config = baseConfig();
    config.adapters.teams = { enabled: false, appId: 'x', appPassword: '${TEAMS_APP_PASSWORD}' };
    expect(Object.keys(loadWith(WITHOUT_TEAMS_AND_DINGTALK, config).adapters)).toEqual(['slack']);
  });

  test('keys that are no platform at all are unknown keys', () => {
    const config = baseConfig();
    config.adapters.wechat = {};
    expect(loadError(config).message).toBe(
      'jitbot.yaml: adapters.wechat: unknown key (check the spelling; see docs/config.md)',
    );
  });
});

describe('an adapter added to the list', () => {
  const dingtalk = { clientId: 'ding-app', clientSecret: '${DINGTALK_CLIENT_SECRET}' };

  test('has its section checked and normalised with no change to the config code', () => {
    const config = baseConfig();
    config.adapters.dingtalk = dingtalk;
    const loaded = loadWith(WITH_DINGTALK, config, { ...BASE_ENV, DINGTALK_CLIENT_SECRET: 'dt-secret' });
    expect(loaded.adapters.dingtalk).toEqual({
      clientId: 'ding-app',
      clientSecret: 'dt-secret',
      apiUrl: 'https://api.dingtalk.com',
    });
    expect(Object.keys(loaded.adapters)).toEqual(['slack', 'dingtalk']);
  });

  test('its shape, required keys, secrets and own checks are all reported in one run', () => {
    const config = baseConfig();
    config.adapters.dingtalk = { clientSecret: 'inline-secret', apiUrl: 'not a url', bogus: 1 };
    expect(problemsWith(WITH_DINGTALK, config)).toEqual([
      'adapters.dingtalk.clientSecret: secrets must not be written in the file: move the value to an environment variable and write "${DINGTALK_CLIENT_SECRET}"',
      'adapters.dingtalk.apiUrl: has the wrong format (see docs/config.md)',
      'adapters.dingtalk.bogus: unknown key (check the spelling; see docs/config.md)',
      'adapters.dingtalk.clientId: required when dingtalk is enabled: expected text',
    ]);
    config.adapters.dingtalk = { clientId: 'manager123', clientSecret: '${DINGTALK_CLIENT_SECRET}' };
    expect(problemsWith(WITH_DINGTALK, config)).toEqual([
      'adapters.dingtalk.clientId: expected the app key, not a user id',
      'adapters.dingtalk.clientSecret: environment variable DINGTALK_CLIENT_SECRET is not set',
    ]);
  });

  test('its required keys are not required while it is disabled, but its types are still checked', () => {
    const config = baseConfig();
    config.adapters.dingtalk = { enabled: false, apiUrl: 'https://api.dingtalk.com' };
    expect(Object.keys(loadWith(WITH_DINGTALK, config).adapters)).toEqual(['slack']);
    config.adapters.dingtalk = { enabled: false, clientId: 42 };
    expect(problemsWith(WITH_DINGTALK, config)).toEqual(['adapters.dingtalk.clientId: expected text, got a number']);
  });

  test('appears in the JSON Schema, and in the "no adapter enabled" hint', () => {
    const schema = jitbotJsonSchema(WITH_DINGTALK) as Record<string, any>;
    expect(schema.properties.adapters.properties.dingtalk.properties.clientSecret.pattern).toBeDefined();
    expect(jitbotJsonSchema(WITHOUT_TEAMS_AND_DINGTALK)).toMatchObject({
      properties: {
        adapters: { properties: { teams: { description: 'this version of jitbot has no teams adapter' } } },
      },
    });
    const config = baseConfig();
    config.adapters = { console: { enabled: false } };
    expect(problemsWith(WITH_DINGTALK, config)).toEqual([
      'adapters: no chat adapter is enabled: enable one of console, slack, teams, feishu, dingtalk',
    ]);
  });
});

describe('slack', () => {
  test('its slash command is configurable, and must look like one', () => {
    const config = baseConfig();
    config.adapters.slack.command = '/access';
    expect(load(config).adapters.slack).toMatchObject({ command: '/access' });
    config.adapters.slack.command = 'jit';
    expect(loadError(config).message).toBe(
      'jitbot.yaml: adapters.slack.command: expected a slash command like /jit (the one in the Slack app)',
    );
  });
});

describe('the console', () => {
  test('is refused when jitbot listens beyond loopback, since it has no login', () => {
    const config = baseConfig();
    config.server = { host: '0.0.0.0' };
    config.adapters.console = {};
    expect(loadError(config).message).toBe(
      'jitbot.yaml: adapters.console: the local console has no authentication, so it only binds to loopback; ' +
        'server.host is "0.0.0.0": set server.host to 127.0.0.1, or enable another adapter and set adapters.console.enabled: false',
    );
    delete config.adapters.console;
    expect(load(config).server.host).toBe('0.0.0.0');
  });

  test('is the fallback: enabled when no section enables an adapter', () => {
    expect(load('').adapters).toEqual({ console: {} });
    const config = baseConfig();
    config.adapters.slack.enabled = false;
    expect(load(config).adapters).toEqual({ console: {} });
  });
});

describe('offline (config validate --offline)', () => {
  const offline = (config: unknown) =>
    checkConfigText(stringify(config), { env: {}, adapters: ADAPTERS, offline: true });

  test('does not read secrets: unset variables are fine, their form is still checked', () => {
    const config = baseConfig();
    Object.assign(config.aws.accounts[0], {
      assumeRoleArn: 'arn:aws-cn:iam::111122223333:role/j',
      externalId: '${UNSET_EXT}',
    });
    expect(offline(config)).toMatchObject({
      issues: [],
      config: { adapters: { slack: { botToken: '', signingSecret: '' } } },
    });
    config.adapters.slack.botToken = 'xoxb-inline';
    expect(offline(config).issues.map((issue) => issue.path)).toEqual(['adapters.slack.botToken']);
  });

  test('reads no other environment variable either', () => {
    const config = baseConfig();
    const env = { ...BASE_ENV, SLACK_APP_TOKEN: 'xapp-1', SLACK_API_URL: 'http://127.0.0.1:9/api/' };
    const checked = checkConfigText(stringify(config), { env, adapters: ADAPTERS, offline: true });
    expect(checked.config?.adapters.slack).toEqual({ botToken: '', signingSecret: '' });
  });
});

describe('teams', () => {
  const APP_ID = '11111111-2222-3333-4444-555555555555';
  const TENANT_ID = 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE';
  const env = {
    ...BASE_ENV,
    TEAMS_APP_PASSWORD: 'teams-secret-value',
    TEAMS_CERTIFICATE_KEY: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
    TEAMS_CERTIFICATE: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
  };
  const withTeams = (section: Record<string, unknown>) => {
    const config = baseConfig();
    config.adapters.teams = { enabled: true, appId: APP_ID, tenantId: TENANT_ID, ...section };
    return config;
  };
  const problems = (config: unknown, environment: typeof BASE_ENV = env) =>
    checkConfigText(stringify(config), { env: environment, adapters: ADAPTERS }).issues.map(
      (issue) => `${issue.path}: ${issue.message}`,
    );

  test('app id, tenant and the conventional password variable; the public cloud by default', () => {
    expect(load(withTeams({}), env).adapters.teams).toEqual({
      appId: APP_ID,
      tenantId: TENANT_ID.toLowerCase(),
      credential: { kind: 'secret', secret: 'teams-secret-value' },
      cloud: 'public',
    });
  });

  test('a certificate instead of a password, Teams operated by 21Vianet, and the URL overrides', () => {
    const loaded = load(
      withTeams({
        certificate: { privateKey: '${TEAMS_CERTIFICATE_KEY}', certificate: '${TEAMS_CERTIFICATE}' },
        cloud: 'china',
        openIdMetadataUrl: 'http://127.0.0.1:9/v1/.well-known/openidconfiguration',
        tokenUrl: 'http://127.0.0.1:9/t/oauth2/v2.0/token',
        serviceUrl: 'http://127.0.0.1:9/connector/',
      }),
      env,
    ).adapters.teams;
    expect(loaded).toMatchObject({
      cloud: 'china',
      credential: { kind: 'certificate', privateKeyPem: env.TEAMS_CERTIFICATE_KEY },
      serviceUrl: 'http://127.0.0.1:9/connector/',
    });
  });

  test('teams:<object id> is stored in lower case everywhere a person is named (Entra object ids ignore case); other platforms keep theirs', () => {
    const upper = 'A11CE000-0000-0000-0000-0000000000CD';
    const config = withTeams({});
    config.roles.ops.members.push(`teams:${upper}`);
    config.admins.push(`teams:${upper}`);
    config.policies[0].levels[0].users = [`teams:${upper}`];
    config.identities.push({
      match: { platform: 'teams', userId: upper },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/alice' },
      groups: ['developers'],
    });
    const loaded = load(config, env);
    const lower = `teams:${upper.toLowerCase()}`;
    expect(loaded.roles.ops!.members).toEqual(['alice@example.cn', 'slack:U0BOB', lower]);
    expect(loaded.admins).toContain(lower);
    expect(loaded.policies[0]).toMatchObject({ levels: [{ users: [lower] }] });
    expect(loaded.identities.at(-1)!.match).toEqual({ platform: 'teams', userId: upper.toLowerCase() });
  });

  test('Teams operated by 21Vianet without serviceUrl: a warning saying what happens until and after a restart', () => {
    const warnings = (config: unknown) =>
      checkConfigText(stringify(config), { env, adapters: ADAPTERS }).warnings.map(
        (warning) => `${warning.path}: ${warning.message}`,
      );
    expect(warnings(withTeams({ cloud: 'china' }))).toEqual([
      expect.stringMatching(/^adapters\.teams\.serviceUrl: cloud: china without serviceUrl: .*across restarts/),
    ]);
    expect(warnings(withTeams({ cloud: 'china', serviceUrl: 'https://connector.example.cn/teams/' }))).toEqual([]);
    expect(warnings(withTeams({}))).toEqual([]);
  });

  test('no app id, a tenant that is not a GUID, no password: each is a problem, never "auth off"', () => {
    const config = withTeams({ tenantId: 'common' });
    delete config.adapters.teams.appId;
    expect(problems(config, BASE_ENV)).toEqual([
      'adapters.teams.tenantId: expected the Entra tenant id the bot is registered in (single-tenant; "common" is not accepted), a GUID like 00000000-0000-0000-0000-000000000000',
      'adapters.teams.appId: required when teams is enabled: expected text',
    ]);
    expect(problems(withTeams({}), BASE_ENV)).toEqual([
      expect.stringMatching(/^adapters\.teams\.appPassword: .*TEAMS_APP_PASSWORD/),
    ]);
    expect(problems(withTeams({ appId: '' }))).toEqual([
      expect.stringMatching(/^adapters\.teams\.appId: expected the bot's Entra application \(client\) id/),
    ]);
  });

  test('both a password and a certificate, an inline password, an unknown cloud', () => {
    const both = withTeams({
      appPassword: '${TEAMS_APP_PASSWORD}',
      certificate: { privateKey: '${TEAMS_CERTIFICATE_KEY}', certificate: '${TEAMS_CERTIFICATE}' },
    });
    expect(problems(both)).toEqual(['adapters.teams.certificate: give either appPassword or certificate, not both']);
    expect(problems(withTeams({ appPassword: 'hunter2' }))).toEqual([
      expect.stringMatching(/^adapters\.teams\.appPassword: /),
    ]);
    expect(problems(withTeams({ cloud: 'usgov' }))).toEqual([
      'adapters.teams.cloud: expected public, or china for Teams operated by 21Vianet',
    ]);
  });

  test('offline: the password variable is not read', () => {
    const checked = checkConfigText(stringify(withTeams({})), { env: {}, adapters: ADAPTERS, offline: true });
    expect(checked.issues).toEqual([]);
    expect(checked.config?.adapters.teams).toMatchObject({ credential: { kind: 'secret', secret: '' } });
  });
});
