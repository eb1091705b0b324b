import { BASE_ENV, baseConfig, loadError } from './fixtures';

type Case = [title: string, breakIt: (config: Record<string, any>) => unknown, expectedLine: string];

const manual = (config: Record<string, any>) => config.policies[0];

// Each case breaks exactly one thing and expects exactly one problem line: file, key path, expectation.
const cases: Case[] = [
  [
    'unknown role in a level',
    (c) => void (manual(c).levels[0].roles = ['sre']),
    'jitbot.yaml: policies[0].levels[0].roles[0]: unknown role "sre": expected one of the roles defined under roles (ops, security)',
  ],
  [
    'six levels',
    (c) => void (manual(c).levels = Array.from({ length: 6 }, () => ({ roles: ['ops'] }))),
    'jitbot.yaml: policies[0].levels: expected 1 to 5 approval levels',
  ],
  [
    'no levels',
    (c) => void (manual(c).levels = []),
    'jitbot.yaml: policies[0].levels: expected 1 to 5 approval levels',
  ],
  [
    'required 0',
    (c) => void (manual(c).levels[0].required = 0),
    'jitbot.yaml: policies[0].levels[0].required: expected a number from 1 to 5',
  ],
  [
    'required 6',
    (c) => void (manual(c).levels[0].required = 6),
    'jitbot.yaml: policies[0].levels[0].required: expected a number from 1 to 5',
  ],
  [
    'required more than the named users',
    (c) => void (manual(c).levels[0] = { users: ['alice@example.cn'], required: 2 }),
    'jitbot.yaml: policies[0].levels[0].required: 2 approvals required but only 1 named user: expected at most 1',
  ],
  [
    'required more than role members and users together',
    (c) => void (manual(c).levels[0] = { roles: ['security'], users: ['dave@example.cn'], required: 3 }),
    'jitbot.yaml: policies[0].levels[0].required: 3 approvals required but only 2 people who can approve (users plus role members): expected at most 2',
  ],
  [
    'level without roles or users',
    (c) => void (manual(c).levels[0] = { required: 1 }),
    'jitbot.yaml: policies[0].levels[0]: expected roles or users (or both): who may approve at this level',
  ],
  [
    'inline secret',
    (c) => void (c.adapters.slack.botToken = 'xoxb-1234-inline'),
    'jitbot.yaml: adapters.slack.botToken: secrets must not be written in the file: move the value to an environment variable and write "${SLACK_BOT_TOKEN}"',
  ],
  [
    'inline external id',
    (c) =>
      void Object.assign(c.aws.accounts[0], {
        assumeRoleArn: 'arn:aws-cn:iam::111122223333:role/jitbot',
        externalId: 'abc123',
      }),
    'jitbot.yaml: aws.accounts[0].externalId: secrets must not be written in the file: move the value to an environment variable and write "${JITBOT_EXTERNAL_ID}"',
  ],
  [
    'unset environment variable',
    (c) => void (c.adapters.slack.botToken = '${UNSET_SLACK_TOKEN}'),
    'jitbot.yaml: adapters.slack.botToken: environment variable UNSET_SLACK_TOKEN is not set',
  ],
  [
    'duplicate policy name',
    (c) => void c.policies.push({ kind: 'deny', name: 'prod', targets: { all: true }, message: 'no' }),
    'jitbot.yaml: policies[1].name: duplicate policy name "prod" (also policies[0]): names must be unique',
  ],
  [
    'min duration above max',
    (c) => void Object.assign(manual(c), { minDuration: '8h', maxDuration: '2h' }),
    'jitbot.yaml: policies[0].minDuration: 8h is longer than maxDuration 2h: expected minDuration ≤ maxDuration',
  ],
  [
    'default duration outside min–max',
    (c) => void (manual(c).defaultDuration = '1d'),
    'jitbot.yaml: policies[0].defaultDuration: 1d is outside 1h–8h: expected minDuration ≤ defaultDuration ≤ maxDuration',
  ],
  [
    'bad duration',
    (c) => void (manual(c).maxDuration = '2 hours'),
    'jitbot.yaml: policies[0].maxDuration: "2 hours" is not a duration: expected a duration like 30m, 2h, 1d or 1h30m',
  ],
  [
    'duration as a bare number',
    (c) => void (manual(c).timeout = 24),
    'jitbot.yaml: policies[0].timeout: expected a duration like 30m, 2h, 1d or 1h30m',
  ],
  [
    'unknown policy kind',
    (c) => void (manual(c).kind = 'approve'),
    'jitbot.yaml: policies[0].kind: expected kind to be one of deny, auto, manual',
  ],
  [
    'missing targets',
    (c) => void delete manual(c).targets,
    'jitbot.yaml: policies[0].targets: required: expected a mapping (key: value)',
  ],
  [
    'empty targets',
    (c) => void (manual(c).targets = {}),
    'jitbot.yaml: policies[0].targets: expected at least one of ids, tags, accounts, regions (or all: true for every node)',
  ],
  [
    'all combined with a selector',
    (c) => void (manual(c).targets = { all: true, tags: { Env: 'prod' } }),
    'jitbot.yaml: policies[0].targets.all: all: true cannot be combined with tags',
  ],
  [
    'bad node id in targets',
    (c) => void (manual(c).targets = { ids: ['web-1'] }),
    'jitbot.yaml: policies[0].targets.ids[0]: expected a node id like i-0123456789abcdef0 or mi-0123456789abcdef0',
  ],
  [
    'target account not configured',
    (c) => void (manual(c).targets = { accounts: ['999999999999'] }),
    'jitbot.yaml: policies[0].targets.accounts[0]: account 999999999999 is not one of aws.accounts',
  ],
  [
    'requester group nobody has',
    (c) => void (manual(c).requesters = { groups: ['developrs'] }),
    'jitbot.yaml: policies[0].requesters.groups[0]: no identity has group "developrs", so this policy could never apply: expected a group named under identities[].groups',
  ],
  [
    'misspelt top-level key',
    (c) => void ((c.polices = c.policies), delete c.policies),
    'jitbot.yaml: polices: unknown key (check the spelling; see docs/config.md)',
  ],
  [
    'configured partition',
    (c) => void (c.aws.partition = 'aws-cn'),
    'jitbot.yaml: aws.partition: unknown key: the partition is derived from aws.regions (cn-* regions are aws-cn)',
  ],
  [
    'regions in two partitions',
    (c) => void c.aws.regions.push('us-east-1'),
    'jitbot.yaml: aws.regions[1]: us-east-1 is in partition aws but cn-north-1 is in aws-cn; one jitbot serves one partition',
  ],
  [
    'global-partition ARN in China',
    (c) => void (c.identities[0].principal.arn = 'arn:aws:iam::111122223333:user/dana'),
    'jitbot.yaml: identities[0].principal.arn: the ARN is in partition aws but jitbot serves aws-cn',
  ],
  [
    'principal in an account jitbot does not manage',
    (c) => void (c.identities[0].principal.arn = 'arn:aws-cn:iam::999999999999:user/dana'),
    'jitbot.yaml: identities[0].principal.arn: account 999999999999 is not one of aws.accounts, so jitbot cannot grant to it',
  ],
  [
    'assume-role ARN in another account',
    (c) => void (c.aws.accounts[0].assumeRoleArn = 'arn:aws-cn:iam::444455556666:role/jitbot'),
    'jitbot.yaml: aws.accounts[0].assumeRoleArn: the role is in account 444455556666, expected a role in account 111122223333',
  ],
  [
    'short account id',
    (c) => void (c.aws.accounts[0].id = '1111'),
    'jitbot.yaml: aws.accounts[0].id: "1111" is not a 12-digit AWS account id (quote it: "012345678901")',
  ],
  [
    'duplicate account',
    (c) => void c.aws.accounts.push({ id: 111122223333, name: 'again' }),
    'jitbot.yaml: aws.accounts[1].id: account 111122223333 is already listed at aws.accounts[0]',
  ],
  [
    'email-domain rule with one IAM user',
    (c) =>
      void c.identities.push({
        match: { emailDomain: 'example.cn' },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/shared' },
      }),
    'jitbot.yaml: identities[1].principal.kind: an emailDomain rule maps many people, so it needs a shared iam-role or sso-permission-set, not one IAM user',
  ],
  [
    'email-domain rule whose session name does not identify the person',
    (c) =>
      void c.identities.push({
        match: { emailDomain: 'example.cn' },
        principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/eng', sessionName: 'jit-{name}' },
      }),
    'jitbot.yaml: identities[1].principal.sessionName: an emailDomain rule maps many people: the session name must include {email} or {userId} to tell them apart',
  ],
  [
    'unknown session-name placeholder',
    (c) =>
      void (c.identities[0].principal = {
        kind: 'iam-role',
        arn: 'arn:aws-cn:iam::111122223333:role/eng',
        sessionName: '{mail}',
      }),
    'jitbot.yaml: identities[0].principal.sessionName: expected a session-name pattern of letters, digits, "+=,.@-" and the placeholders {email}, {userId}, {name}',
  ],
  [
    'identity match with two forms',
    (c) => void (c.identities[0].match = { email: 'dana@example.cn', platform: 'slack', userId: 'U0DANA' }),
    'jitbot.yaml: identities[0].match: expected exactly one of: email, platform + userId, emailDomain',
  ],
  [
    'identity match with platform but no user id',
    (c) => void (c.identities[0].match = { platform: 'slack' }),
    'jitbot.yaml: identities[0].match.userId: required with platform: expected the chat user id',
  ],
  [
    'numeric chat user id',
    (c) => void (c.identities[0].match = { platform: 'dingtalk', userId: 123 }),
    'jitbot.yaml: identities[0].match.userId: expected the chat user id as text (quote numeric ids: "0123")',
  ],
  [
    'same email mapped twice',
    (c) => void c.identities.push({ ...c.identities[0], match: { email: 'DANA@example.cn' } }),
    'jitbot.yaml: identities[1].match: email dana@example.cn is already mapped at identities[0]',
  ],
  [
    'one channel speaking for two roles',
    (c) => void (c.roles.security.channels.slack = 'C0OPS'),
    'jitbot.yaml: roles.security.channels.slack: channel C0OPS already speaks for role ops; a channel speaks for one role',
  ],
  [
    'role name with a space',
    (c) => void (c.roles['ops team'] = { members: ['dave@example.cn'] }),
    'jitbot.yaml: roles["ops team"]: role names use letters, digits, ".", "_" or "-" and start with a letter or digit (max 64)',
  ],
  [
    'member that is neither email nor platform:userId',
    (c) => void (c.admins = ['carol']),
    'jitbot.yaml: admins[0]: "carol" is not an email address or platform:userId (platform: console, slack, teams, feishu, dingtalk)',
  ],
  ['unsupported locale', (c) => void (c.locale = 'fr'), 'jitbot.yaml: locale: expected one of en, zh-CN, ja'],
  [
    'unknown time zone',
    (c) => void (c.timeZone = 'Beijing'),
    'jitbot.yaml: timeZone: "Beijing" is not an IANA time zone like Asia/Shanghai or UTC',
  ],
  [
    'port out of range',
    (c) => void (c.server = { port: 70000 }),
    'jitbot.yaml: server.port: expected a port number from 0 to 65535',
  ],
  [
    'section left empty',
    (c) => void (c.sweeper = null),
    'jitbot.yaml: sweeper: expected a mapping (key: value), got an empty value',
  ],
  [
    'both stores',
    (c) => void (c.embedded = { dataDir: './data' }),
    'jitbot.yaml: embedded: choose either dynamodb or embedded, not both',
  ],
  [
    'live AWS with an in-memory store',
    (c) => void (delete c.dynamodb, (c.embedded = { inMemory: true })),
    'jitbot.yaml: embedded.inMemory: live AWS grants need state that survives a restart (to revoke them): use dynamodb or an embedded dataDir',
  ],
  [
    'no chat adapter',
    (c) => void (c.adapters = { console: { enabled: false } }),
    'jitbot.yaml: adapters: no chat adapter is enabled: enable one of console, slack, teams, feishu, dingtalk',
  ],
  [
    'duplicate inventory node',
    (c) =>
      void (c.inventory = {
        nodes: [
          { id: 'i-0123456789abcdef0', account: '111122223333', region: 'cn-north-1' },
          { id: 'i-0123456789abcdef0', account: '111122223333', region: 'cn-north-1' },
        ],
      }),
    'jitbot.yaml: inventory.nodes[1].id: node i-0123456789abcdef0 is listed twice',
  ],
  ['whole file is a list', () => '- a\n- b\n', 'jitbot.yaml: expected a mapping (key: value), got a list'],
  [
    'replica id with a slash',
    (c) => void (c.server = { replicaId: 'pod/0' }),
    'jitbot.yaml: server.replicaId: expected a replica id of 1–64 letters, digits, ".", "_" or "-" (e.g. jitbot-0), or ${NAME} to read it from the environment',
  ],
  [
    'replica id from an unset variable',
    (c) => void (c.server = { replicaId: '${POD_NAME}' }),
    'jitbot.yaml: server.replicaId: environment variable POD_NAME is not set',
  ],
  [
    'a maximum replay age shorter than a minute',
    (c) => void (c.timeouts = { replayMaxAge: '30s' }),
    'jitbot.yaml: timeouts.replayMaxAge: "30s" is too short: a click or command a restart interrupted is replayed only if it is younger than this; use at least 1m (default 15m)',
  ],
  [
    'a maximum replay age that is not a duration',
    (c) => void (c.timeouts = { replayMaxAge: '15 minutes' }),
    'jitbot.yaml: timeouts.replayMaxAge: "15 minutes" is not a duration: expected a duration like 30m, 2h, 1d or 1h30m',
  ],
  [
    'a maximum replay age of 0',
    (c) => void (c.timeouts = { replayMaxAge: '0' }),
    'jitbot.yaml: timeouts.replayMaxAge: "0" is not a duration: expected a duration like 30m, 2h, 1d or 1h30m',
  ],
];

describe('invalid configs name the file, the key path and what was expected', () => {
  test.each(cases)('%s', (_title, breakIt, expectedLine) => {
    const config = baseConfig();
    const replaced = breakIt(config);
    const error = loadError(replaced ?? config, BASE_ENV);
    expect(error.message.split('\n')).toEqual([expectedLine]);
    expect(error.issues).toHaveLength(1);
  });

  test('the base config itself is valid (so each case fails for its own reason)', () => {
    expect(() => loadError(baseConfig())).toThrow('expected the config to be rejected');
  });

  test('every problem is reported, one line each', () => {
    const config = baseConfig();
    config.locale = 'fr';
    config.policies[0].levels[0].required = 0;
    config.adapters.slack.botToken = 'xoxb-inline';
    const lines = loadError(config).message.split('\n');
    expect(lines).toEqual([
      'jitbot.yaml: locale: expected one of en, zh-CN, ja',
      'jitbot.yaml: policies[0].levels[0].required: expected a number from 1 to 5',
      'jitbot.yaml: adapters.slack.botToken: secrets must not be written in the file: move the value to an environment variable and write "${SLACK_BOT_TOKEN}"',
    ]);
  });

  test('YAML syntax errors carry line and column', () => {
    const text = 'locale: en\npolicies:\n  - kind: deny\n    name: [unclosed\n';
    const error = loadError(text);
    expect(error.issues[0]).toMatchObject({ line: 5, column: 1 });
    expect(error.message).toMatch(/^jitbot\.yaml:5:1: YAML syntax error: /);
  });

  test('a syntax error in the middle of a line points at that line', () => {
    const error = loadError('locale: en\nserver:\n  host: a: b\n');
    expect(error.message).toMatch(/^jitbot\.yaml:3:\d+: YAML syntax error: /);
  });

  test('duplicate YAML keys are a syntax error', () => {
    const error = loadError('locale: en\nlocale: ja\n');
    expect(error.message).toMatch(/^jitbot\.yaml:2:1: YAML syntax error: Map keys must be unique/);
  });

  test('an unset variable of a disabled adapter is not an error', () => {
    const config = baseConfig();
    config.adapters.feishu = { enabled: false, appId: 'cli_x', appSecret: '${FEISHU_APP_SECRET}' };
    expect(() => loadError(config)).toThrow('expected the config to be rejected');
  });

  test('an unset external id is not an error in dry run', () => {
    const config = baseConfig();
    Object.assign(config.aws, { dryRun: true });
    Object.assign(config.aws.accounts[0], {
      assumeRoleArn: 'arn:aws-cn:iam::111122223333:role/j',
      externalId: '${UNSET_EXT}',
    });
    expect(() => loadError(config)).toThrow('expected the config to be rejected');
  });
});
