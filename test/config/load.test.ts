import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS } from '../../adapters';
import { DEMO_CONFIG_YAML, DEMO_USERS } from '../../adapters/console/demo';
import { DEMO_NODES } from '../../src/config/demo-nodes';
import {
  ConfigError,
  DEMO_SOURCE,
  loadConfig as loadConfigWith,
  type LoadConfigOptions,
  type ReadConfigFile,
} from '../../src/config/load';
import type { ManualPolicy } from '../../src/core/policy-model';
import { isAdmin, resolveRequester, rolesOf } from '../../src/core/identity';
import { BASE_ENV, baseConfig, load } from './fixtures';
import { stringify } from 'yaml';

const EXAMPLE_PATH = join(__dirname, '../../examples/jitbot.yaml');
const EXAMPLE_ENV = {
  JITBOT_PROD_EXTERNAL_ID: 'ext-id-value',
  SLACK_BOT_TOKEN: 'xoxb-example',
  SLACK_SIGNING_SECRET: 'slack-signing',
  SLACK_APP_TOKEN: 'xapp-example',
  FEISHU_APP_SECRET: 'feishu-example',
  DINGTALK_CLIENT_SECRET: 'dingtalk-example',
};

/** Loads with the adapters of this jitbot. */
const loadConfig = (options: Omit<LoadConfigOptions, 'adapters'>) => loadConfigWith({ ...options, adapters: ADAPTERS });

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A fake file system: path → text; missing files throw ENOENT like fs.readFileSync. */
function files(contents: Record<string, string>): ReadConfigFile & { reads: string[] } {
  const reads: string[] = [];
  const read = (path: string) => {
    reads.push(path);
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
  return Object.assign(read, { reads });
}

describe('the built-in demo config', () => {
  test('is used when there is no file, and loads cleanly', () => {
    const { config, source } = loadConfig({ env: {}, readFile: files({}) });
    expect(source).toBe(DEMO_SOURCE);
    expect(config.locale).toBe('en');
    expect(config.aws).toEqual({ partition: 'aws-cn', regions: [], accounts: [], dryRun: true });
    expect(config.store).toEqual({ kind: 'embedded', inMemory: false });
    expect(config.adapters).toEqual({ console: {} });
  });

  test('has the demo people, roles, channels and admin', () => {
    const { config } = loadConfig({ env: {}, readFile: files({}) });
    const person = (userId: string) => {
      const user = DEMO_USERS.find((u) => u.userId === userId)!;
      return { platform: 'console' as const, userId, displayName: user.displayName };
    };
    expect(DEMO_USERS.map((u) => u.userId)).toEqual(['dana', 'alice', 'bob', 'carol']);
    expect(resolveRequester(config, person('dana'))).toEqual({
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
      groups: ['developers'],
    });
    expect(rolesOf(config, person('alice'))).toEqual(['ops-approvers']);
    expect(rolesOf(config, person('bob'))).toEqual(['security-leads']);
    expect(rolesOf(config, person('carol'))).toEqual(['ops-approvers']);
    expect(isAdmin(config, person('carol'))).toBe(true);
    expect(isAdmin(config, person('alice'))).toBe(false);
    expect(config.roles['ops-approvers']!.channels).toEqual({ console: 'ops-approvals' });
    expect(config.roles['security-leads']!.channels).toEqual({ console: 'security-approvals' });
  });

  test('has the demo inventory, including two nodes named batch', () => {
    const { config } = loadConfig({ env: {}, readFile: files({}) });
    expect(config.inventory.demo).toBe(true);
    expect(config.inventory.nodes).toEqual(DEMO_NODES);
    const byName = (name: string) => config.inventory.nodes.filter((n) => n.name === name);
    expect(byName('web-1')).toEqual([
      {
        id: 'i-0123456789abcdef0',
        name: 'web-1',
        account: '111122223333',
        region: 'cn-north-1',
        tags: { Env: 'prod', Owner: 'web-team' },
        pingStatus: 'Online',
      },
    ]);
    expect(byName('legacy-1')[0]).toMatchObject({ id: 'mi-0123456789abcdef0', pingStatus: 'ConnectionLost' });
    expect(byName('db-1')[0]!.tags).toEqual({ Env: 'prod', Role: 'database' });
    expect(byName('batch').map((n) => [n.id, n.account, n.region])).toEqual([
      ['i-0b0b0b0b0b0b0b0b1', '444455556666', 'cn-northwest-1'],
      ['i-0b0b0b0b0b0b0b0b2', '444455556666', 'cn-northwest-1'],
    ]);
  });

  test('has the demo policies in evaluation-relevant shape', () => {
    const { config } = loadConfig({ env: {}, readFile: files({}) });
    expect(config.policies.map((p) => [p.kind, p.name])).toEqual([
      ['deny', 'no-database-shell'],
      ['auto', 'dev-self-service'],
      ['manual', 'production'],
      ['manual', 'default'],
    ]);
    expect(config.policies[0]).toEqual({
      kind: 'deny',
      name: 'no-database-shell',
      targets: { tags: { Role: 'database' } },
      message: 'Database hosts are reached through the DBA bastion, not Session Manager.',
    });
    expect(config.policies[1]).toEqual({
      kind: 'auto',
      name: 'dev-self-service',
      targets: { tags: { Env: 'dev' } },
      maxDurationMs: 3_600_000,
    });
    expect(config.policies[2]).toEqual({
      kind: 'manual',
      name: 'production',
      targets: { tags: { Env: 'prod' } },
      minDurationMs: 3_600_000,
      maxDurationMs: 8 * 3_600_000,
      defaultDurationMs: 3_600_000,
      levels: [
        { roles: ['ops-approvers'], users: [], required: 1 },
        { roles: ['security-leads'], users: [], required: 1 },
      ],
      timeoutMs: 24 * 3_600_000,
      reminderIntervalMs: 4 * 3_600_000,
    });
    const fallback = config.policies[3] as ManualPolicy;
    expect(fallback.targets).toEqual({});
    expect(fallback.levels).toEqual([{ roles: ['ops-approvers'], users: [], required: 1 }]);
  });
});

describe('examples/jitbot.yaml', () => {
  const readExample = () => readFileSync(EXAMPLE_PATH, 'utf8');

  test('loads cleanly with the environment variables it references (read from disk by the default reader)', () => {
    const { config, source } = loadConfig({ path: EXAMPLE_PATH, env: EXAMPLE_ENV });
    expect(source).toBe(EXAMPLE_PATH);
    expect(config.locale).toBe('zh-CN');
    expect(config.aws.partition).toBe('aws-cn');
    expect(config.aws.dryRun).toBe(false);
    expect(config.aws.regions).toEqual(['cn-north-1', 'cn-northwest-1']);
    expect(config.aws.accounts).toEqual([
      { id: '444455556666', name: 'shared-services' },
      {
        id: '111122223333',
        name: 'production',
        assumeRoleArn: 'arn:aws-cn:iam::111122223333:role/jitbot-operator',
        externalId: 'ext-id-value',
      },
    ]);
    expect(config.store).toEqual({ kind: 'dynamodb', table: 'jitbot', region: 'cn-north-1', createTable: false });
    expect(config.adapters.slack).toEqual({
      botToken: 'xoxb-example',
      signingSecret: 'slack-signing',
      appToken: 'xapp-example',
    });
    expect(config.adapters.feishu).toEqual({
      mode: 'websocket',
      appId: 'cli_a1b2c3d4e5f6a7b8',
      appSecret: 'feishu-example',
      domain: 'feishu',
    });
    expect(config.adapters.dingtalk).toMatchObject({
      clientId: 'dingexampleclientid',
      clientSecret: 'dingtalk-example',
      mode: 'stream',
    });
    expect(config.adapters.console).toBeUndefined();
    const production = config.policies.find((p) => p.name === 'production') as ManualPolicy;
    expect(production.levels.map((l) => l.roles)).toEqual([['ops-approvers'], ['security-leads']]);
    expect(config.policies.map((p) => p.kind)).toEqual(['deny', 'auto', 'manual', 'manual', 'manual']);
  });

  test('maps Identity Center users by email domain', () => {
    const { config } = loadConfig({ path: EXAMPLE_PATH, env: EXAMPLE_ENV, readFile: readExample });
    const user = {
      platform: 'slack' as const,
      userId: 'U0ZHOU',
      displayName: 'Zhou Xin',
      email: 'Zhou.Xin@example.cn',
    };
    expect(resolveRequester(config, user)).toEqual({
      principal: {
        kind: 'sso-permission-set',
        arn: 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
        policyName: 'ssm-jit-engineers',
        sessionName: 'zhou.xin@example.cn',
      },
      groups: ['engineers'],
    });
  });

  test('names every unset variable it references when the environment is empty', () => {
    const error = thrown(() => loadConfig({ path: EXAMPLE_PATH, env: {}, readFile: readExample }));
    expect(error).toBeInstanceOf(ConfigError);
    for (const name of Object.keys(EXAMPLE_ENV))
      expect((error as ConfigError).message).toContain(`environment variable ${name} is not set`);
  });

  test('is valid offline, without any of its secrets, and without warnings', () => {
    const { config, warnings } = loadConfig({ path: EXAMPLE_PATH, env: {}, readFile: readExample, offline: true });
    expect(warnings).toEqual([]);
    expect(Object.keys(config.adapters)).toEqual(['slack', 'feishu', 'dingtalk']);
    // Offline nothing is read: a present reference gives an empty secret.
    expect(config.adapters.slack).toEqual({ botToken: '', signingSecret: '', appToken: '' });
    expect(config.aws.accounts[1]).not.toHaveProperty('externalId');
  });
});

describe('which file is loaded', () => {
  const valid = stringify(baseConfig());

  test('an explicit path wins over JITBOT_CONFIG and ./jitbot.yaml', () => {
    const read = files({ 'explicit.yaml': valid, 'from-env.yaml': 'locale: [', 'jitbot.yaml': 'locale: [' });
    const { source } = loadConfig({
      path: 'explicit.yaml',
      env: { ...BASE_ENV, JITBOT_CONFIG: 'from-env.yaml' },
      readFile: read,
    });
    expect(source).toBe('explicit.yaml');
    expect(read.reads).toEqual(['explicit.yaml']);
  });

  test('JITBOT_CONFIG wins over ./jitbot.yaml', () => {
    const read = files({ 'from-env.yaml': valid, 'jitbot.yaml': 'locale: [' });
    const { source } = loadConfig({ env: { ...BASE_ENV, JITBOT_CONFIG: 'from-env.yaml' }, readFile: read });
    expect(source).toBe('from-env.yaml');
  });

  test('./jitbot.yaml is used when it exists', () => {
    const read = files({ 'jitbot.yaml': valid });
    const { source, config } = loadConfig({ env: BASE_ENV, readFile: read });
    expect(source).toBe('jitbot.yaml');
    expect(config.adapters.slack).toMatchObject({ botToken: 'xoxb-test-token' });
  });

  test('a reader that returns undefined for a missing file also falls back to the demo', () => {
    const { source } = loadConfig({ env: {}, readFile: () => undefined });
    expect(source).toBe(DEMO_SOURCE);
  });

  test('a named file that does not exist is an error, not the demo', () => {
    expect(() => loadConfig({ path: 'missing.yaml', env: {}, readFile: files({}) })).toThrow(
      'missing.yaml: file not found',
    );
    expect(() => loadConfig({ env: { JITBOT_CONFIG: 'gone.yaml' }, readFile: files({}) })).toThrow(
      'gone.yaml: file not found',
    );
  });

  test('other read errors are not hidden', () => {
    const denied = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(() => loadConfig({ env: {}, readFile: denied })).toThrow('EACCES');
  });
});

describe('normalisation', () => {
  test('an empty file is a valid config: every default applies', () => {
    const config = load('');
    expect(config).toMatchObject({
      locale: 'en',
      timeZone: 'UTC',
      server: { host: '127.0.0.1', port: 3000 },
      aws: { partition: 'aws', dryRun: true },
      store: { kind: 'embedded', inMemory: false },
      identities: [],
      roles: {},
      admins: [],
      policies: [],
      timeouts: { expiryWarningMs: 600_000, deliveryDedupeMs: 12 * 3_600_000, replayMaxAgeMs: 15 * 60_000 },
      audit: { retentionDays: 400 },
      sweeper: { intervalMs: 10_000 },
      inventory: { demo: false, nodes: [], cardTags: ['Env', 'Owner'] },
      adapters: { console: {} },
    });
  });

  test('manual-policy defaults: 1h–336h, default = min, 24h time-out, 4h reminders; auto max 1h', () => {
    const config = baseConfig();
    config.policies = [
      { kind: 'manual', name: 'm', targets: { all: true }, levels: [{ roles: ['ops'] }] },
      { kind: 'auto', name: 'a', targets: { tags: { Env: 'dev' } } },
    ];
    const [manual, auto] = load(config).policies;
    expect(manual).toMatchObject({
      minDurationMs: 3_600_000,
      maxDurationMs: 336 * 3_600_000,
      defaultDurationMs: 3_600_000,
      timeoutMs: 24 * 3_600_000,
      reminderIntervalMs: 4 * 3_600_000,
      levels: [{ roles: ['ops'], users: [], required: 1 }],
    });
    expect(auto).toMatchObject({ maxDurationMs: 3_600_000 });
  });

  test('durations in every form; 0 turns reminders and expiry warnings off', () => {
    const config = baseConfig();
    Object.assign(config.policies[0], {
      minDuration: '30m',
      defaultDuration: '1h30m',
      maxDuration: '1d',
      reminderInterval: '0',
      timeout: '90s',
    });
    config.timeouts = { expiryWarning: 0, deliveryDedupe: '2d', replayMaxAge: '1h30m' };
    const loaded = load(config);
    expect(loaded.policies[0]).toMatchObject({
      minDurationMs: 30 * 60_000,
      defaultDurationMs: 90 * 60_000,
      maxDurationMs: 86_400_000,
      reminderIntervalMs: 0,
      timeoutMs: 90_000,
    });
    expect(loaded.timeouts).toEqual({
      expiryWarningMs: 0,
      deliveryDedupeMs: 2 * 86_400_000,
      replayMaxAgeMs: 90 * 60_000,
    });
  });

  test('unquoted account ids get their leading zeros back; tag values become text', () => {
    const text = [
      'aws: { regions: [cn-north-1], accounts: [{ id: 012345678901, name: a }] }',
      'dynamodb: {}',
      'policies:',
      '  - { kind: deny, name: d, message: no, targets: { accounts: [012345678901], tags: { Tier: 1, Public: true } } }',
    ].join('\n');
    const config = load(text);
    expect(config.aws.accounts[0]!.id).toBe('012345678901');
    expect(config.policies[0]!.targets).toEqual({ accounts: ['012345678901'], tags: { Tier: '1', Public: 'true' } });
  });

  test('targets all: true becomes the empty selector (every node)', () => {
    const config = baseConfig();
    config.policies[0].targets = { all: true };
    expect(load(config).policies[0]!.targets).toEqual({});
  });

  test('member references are canonical: emails lower-cased, duplicates removed', () => {
    const config = baseConfig();
    config.roles.ops.members = ['Alice@Example.CN', 'alice@example.cn', 'slack:U0BOB'];
    config.admins = ['Carol@Example.cn'];
    config.policies[0].levels[0] = { users: ['Dave@Example.cn', 'slack:U0EVE'], required: 2 };
    const loaded = load(config);
    expect(loaded.roles.ops!.members).toEqual(['alice@example.cn', 'slack:U0BOB']);
    expect(loaded.admins).toEqual(['carol@example.cn']);
    expect((loaded.policies[0] as ManualPolicy).levels[0]!.users).toEqual(['dave@example.cn', 'slack:U0EVE']);
  });

  test('aws: a section means live unless dryRun; the dynamodb region defaults to the first AWS region', () => {
    const live = load(baseConfig());
    expect(live.aws).toEqual({
      partition: 'aws-cn',
      regions: ['cn-north-1'],
      accounts: [{ id: '111122223333', name: 'prod' }],
      dryRun: false,
    });
    expect(live.store).toEqual({ kind: 'dynamodb', table: 'jitbot', region: 'cn-north-1', createTable: false });
    const config = baseConfig();
    config.aws.dryRun = true;
    config.dynamodb = { endpoint: 'http://127.0.0.1:8000', region: 'cn-northwest-1', createTable: true };
    const dry = load(config);
    expect(dry.aws.dryRun).toBe(true);
    expect(dry.store).toEqual({
      kind: 'dynamodb',
      table: 'jitbot',
      region: 'cn-northwest-1',
      endpoint: 'http://127.0.0.1:8000',
      createTable: true,
    });
  });

  test('the partition follows the regions, also in the global partition', () => {
    const config = baseConfig();
    config.aws.regions = ['eu-west-1'];
    config.identities[0].principal.arn = 'arn:aws:iam::111122223333:user/dana';
    expect(load(config).aws.partition).toBe('aws');
  });

  test('the console is enabled by default only when no other adapter is', () => {
    expect(load(baseConfig()).adapters.console).toBeUndefined();
    const both = baseConfig();
    both.adapters.console = { enabled: true };
    expect(Object.keys(load(both).adapters).sort()).toEqual(['console', 'slack']);
    const disabled = baseConfig();
    disabled.adapters.slack.enabled = false;
    delete disabled.adapters.slack.botToken;
    expect(load(disabled).adapters).toEqual({ console: {} });
  });

  test("a section that is present is enabled, also the console's", () => {
    const both = baseConfig();
    both.adapters.console = {};
    expect(Object.keys(load(both).adapters)).toEqual(['console', 'slack']);
  });

  test('static inventory nodes are normalised and added after the demo nodes', () => {
    const config = baseConfig();
    config.inventory = {
      demo: true,
      cardTags: ['Env'],
      nodes: [
        {
          id: 'i-0c0c0c0c0c0c0c0c0',
          name: 'extra',
          account: 111122223333,
          region: 'cn-north-1',
          tags: { Env: 'prod', Port: 22 },
        },
      ],
    };
    const inventory = load(config).inventory;
    expect(inventory.nodes).toHaveLength(DEMO_NODES.length + 1);
    expect(inventory.nodes.at(-1)).toEqual({
      id: 'i-0c0c0c0c0c0c0c0c0',
      name: 'extra',
      account: '111122223333',
      region: 'cn-north-1',
      tags: { Env: 'prod', Port: '22' },
    });
    expect(inventory.cardTags).toEqual(['Env']);
  });

  test('server.replicaId: absent by default, literal, or read from the environment', () => {
    expect(load(baseConfig()).server.replicaId).toBeUndefined();
    expect(load({ ...baseConfig(), server: { replicaId: 'jitbot-0' } }).server).toEqual({
      host: '127.0.0.1',
      port: 3000,
      replicaId: 'jitbot-0',
    });
    const fromEnv = load(
      { ...baseConfig(), server: { replicaId: '${POD_NAME}' } },
      { ...BASE_ENV, POD_NAME: 'jitbot-7d9f-x2' },
    );
    expect(fromEnv.server.replicaId).toBe('jitbot-7d9f-x2');
    expect(() =>
      load({ ...baseConfig(), server: { replicaId: '${POD_NAME}' } }, { ...BASE_ENV, POD_NAME: 'a b' }),
    ).toThrow('server.replicaId: ${POD_NAME} must hold 1–64 letters, digits, ".", "_" or "-"');
  });

  test('the demo YAML is the text the loader reads (no hidden defaults)', () => {
    expect(load(DEMO_CONFIG_YAML, {}).policies).toHaveLength(4);
  });
});

describe('docs/config.md', () => {
  test('every YAML example in the reference loads', () => {
    const text = readFileSync(join(__dirname, '../../docs/config.md'), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) expect(() => load(block, BASE_ENV)).not.toThrow();
  });
});

describe("slack: { enabled: true } reads Slack's conventional environment variables", () => {
  const withSlack = DEMO_CONFIG_YAML.replace(
    'adapters:\n  console: { enabled: true }',
    'adapters:\n  console: { enabled: true }\n  slack: { enabled: true }',
  );

  test('tokens, app token and API URL come from SLACK_*', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'sig',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
    };
    const { config } = loadConfig({ env, readFile: files({ 'jitbot.yaml': withSlack }) });
    expect(config.adapters.slack).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 'sig',
      appToken: 'xapp-1',
      apiUrl: 'http://127.0.0.1:9/api/',
    });
  });

  test('an unset variable is named, and its value never printed', () => {
    const error = thrown(() =>
      loadConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-secret' }, readFile: files({ 'jitbot.yaml': withSlack }) }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('adapters.slack.signingSecret');
    expect((error as Error).message).toContain('SLACK_SIGNING_SECRET');
    expect((error as Error).message).not.toContain('xoxb-secret');
  });
});
