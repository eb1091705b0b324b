import { BASE_ENV, baseConfig, load, loadError } from './fixtures';

// `jitbot config validate` reports every problem in one run: the file's shape problems and the checks across
// fields together. Cross-field checks run on the parts that parsed and say nothing that a left-out part explains.

const manual = (config: Record<string, any>) => config.policies[0];

test('a file with six problems of both kinds gets six lines in one run', () => {
  const config = baseConfig();
  config.admins = ['carol']; // shape: neither an email nor platform:userId
  manual(config).levels[0].required = 0; // shape: out of range …
  manual(config).levels[0].roles = ['sre']; // … in the same level as an unknown role
  Object.assign(manual(config), { minDuration: '8h', maxDuration: '2h' }); // across fields, same policy
  config.aws.regions.push('us-east-1'); // across fields: two partitions
  config.adapters.slack.command = 'jit'; // shape, in an adapter's own section

  expect(loadError(config).message.split('\n')).toEqual([
    'jitbot.yaml: admins[0]: "carol" is not an email address or platform:userId (platform: console, slack, teams, feishu, dingtalk)',
    'jitbot.yaml: policies[0].levels[0].required: expected a number from 1 to 5',
    'jitbot.yaml: adapters.slack.command: expected a slash command like /jit (the one in the Slack app)',
    'jitbot.yaml: aws.regions[1]: us-east-1 is in partition aws but cn-north-1 is in aws-cn; one jitbot serves one partition',
    'jitbot.yaml: policies[0].minDuration: 8h is longer than maxDuration 2h: expected minDuration ≤ maxDuration',
    'jitbot.yaml: policies[0].levels[0].roles[0]: unknown role "sre": expected one of the roles defined under roles (ops, security)',
  ]);
});

test('problems in list elements keep the index they have in the file', () => {
  const config = baseConfig();
  config.policies = [
    { kind: 'approve', name: 'broken', targets: { all: true } },
    { kind: 'deny', name: 'no', targets: { all: true }, message: 'no' },
    { ...manual(config), targets: { accounts: ['999999999999'] } },
    { kind: 'deny', name: 'no', targets: {}, message: 'again' },
  ];
  expect(loadError(config).message.split('\n')).toEqual([
    'jitbot.yaml: policies[0].kind: expected kind to be one of deny, auto, manual',
    'jitbot.yaml: policies[2].targets.accounts[0]: account 999999999999 is not one of aws.accounts',
    'jitbot.yaml: policies[3].name: duplicate policy name "no" (also policies[1]): names must be unique',
    'jitbot.yaml: policies[3].targets: expected at least one of ids, tags, accounts, regions (or all: true for every node)',
  ]);
});

test('nested lists that lost elements keep their indices too', () => {
  const config = baseConfig();
  config.policies = [
    { kind: 'approve', name: 'broken', targets: { all: true } },
    { ...manual(config), levels: ['ops', { roles: ['sre'] }] },
  ];
  expect(loadError(config).message.split('\n')).toEqual([
    'jitbot.yaml: policies[0].kind: expected kind to be one of deny, auto, manual',
    'jitbot.yaml: policies[1].levels[0]: expected a mapping (key: value), got text',
    'jitbot.yaml: policies[1].levels[1].roles[0]: unknown role "sre": expected one of the roles defined under roles (ops, security)',
  ]);
});

type Case = [title: string, breakIt: (config: Record<string, any>) => void, onlyLine: string];

// Each case has one shape problem that, if the checks across fields ran on a default or on a shortened list,
// would also produce a misleading second line.
const leftOutParts: Case[] = [
  [
    'a bad minimum duration is not compared with the maximum',
    (c) => Object.assign(manual(c), { minDuration: '8 hours', maxDuration: '30m' }),
    'jitbot.yaml: policies[0].minDuration: "8 hours" is not a duration: expected a duration like 30m, 2h, 1d or 1h30m',
  ],
  [
    'a role with a bad member is neither unknown nor short of approvers',
    (c) => {
      c.roles.security.members = ['carol'];
      manual(c).levels[0] = { roles: ['security'], users: ['dave@example.cn'], required: 2 };
    },
    'jitbot.yaml: roles.security.members[0]: "carol" is not an email address or platform:userId (platform: console, slack, teams, feishu, dingtalk)',
  ],
  [
    'a role whose whole entry is broken is not unknown',
    (c) => (c.roles.ops = ['alice@example.cn']),
    'jitbot.yaml: roles.ops: expected a mapping (key: value), got a list',
  ],
  [
    'an inline secret is not also looked up under its default variable',
    (c) => (c.adapters.slack.botToken = 'xoxb-inline'),
    'jitbot.yaml: adapters.slack.botToken: secrets must not be written in the file: move the value to an environment variable and write "${SLACK_BOT_TOKEN}"',
  ],
  [
    'a bad account does not make its targets and principals unknown accounts',
    (c) => {
      c.aws.accounts.push({ id: '4444', name: 'batch' });
      manual(c).targets = { accounts: ['444455556666'] };
      c.identities[0].principal.arn = 'arn:aws-cn:iam::444455556666:user/dana';
    },
    'jitbot.yaml: aws.accounts[1].id: "4444" is not a 12-digit AWS account id (quote it: "012345678901")',
  ],
  [
    'a bad node id does not leave an empty target list behind',
    (c) => (manual(c).targets = { ids: ['web-1'] }),
    'jitbot.yaml: policies[0].targets.ids[0]: expected a node id like i-0123456789abcdef0 or mi-0123456789abcdef0',
  ],
  [
    "a bad group name does not make a policy's requester group unknown",
    (c) => {
      c.identities[0].groups = ['developers', 'bad group'];
      manual(c).requesters = { groups: ['developers'] };
    },
    'jitbot.yaml: identities[0].groups[1]: expected a name of letters, digits, ".", "_" or "-" starting with a letter or digit (max 64)',
  ],
  [
    'a bad email in an identity match is not "no form given"',
    (c) => (c.identities[0].match = { email: 'dana' }),
    'jitbot.yaml: identities[0].match.email: expected an email address',
  ],
  [
    'a bad assume-role ARN does not make the external id pointless',
    (c) => Object.assign(c.aws.accounts[0], { assumeRoleArn: 'jitbot', externalId: '${EXTERNAL_ID}' }),
    'jitbot.yaml: aws.accounts[0].assumeRoleArn: expected an ARN like arn:aws-cn:iam::111122223333:role/jitbot',
  ],
];

test.each(leftOutParts)('%s', (_title, breakIt, onlyLine) => {
  const config = baseConfig();
  breakIt(config);
  expect(loadError(config, { ...BASE_ENV, EXTERNAL_ID: 'x' }).message.split('\n')).toEqual([onlyLine]);
});

describe('account ids have 12 digits', () => {
  test.each([
    ['aws.accounts[0].id', (c: Record<string, any>) => (c.aws.accounts[0].id = 1234)],
    ['policies[0].targets.accounts[0]', (c: Record<string, any>) => (manual(c).targets = { accounts: [1234] })],
    ['aws.accounts[0].id', (c: Record<string, any>) => (c.aws.accounts[0].id = '1234')],
  ])('%s: 1234 is refused', (path, breakIt) => {
    const config = baseConfig();
    breakIt(config);
    expect(loadError(config).issues).toEqual([
      { path, message: expect.stringMatching(/^"?1234"? is not a 12-digit AWS account id/) },
    ]);
  });

  test('unquoted ids are read as written: all 12 digits, leading zeros included', () => {
    const text = [
      'aws: { regions: [cn-north-1], accounts: [{ id: 012345678901, name: a }, { id: 111122223333, name: b }] }',
      'dynamodb: {}',
    ].join('\n');
    expect(load(text).aws.accounts.map((account) => account.id)).toEqual(['012345678901', '111122223333']);
  });

  test('an unquoted id that lost digits is refused even with a leading zero', () => {
    const text = 'aws: { regions: [cn-north-1], accounts: [{ id: 01234, name: a }] }\ndynamodb: {}\n';
    expect(loadError(text).message).toBe(
      'jitbot.yaml: aws.accounts[0].id: "01234" is not a 12-digit AWS account id (quote it: "012345678901")',
    );
  });
});

describe('a list that loses its only bad element keeps its owner', () => {
  test('the only account is malformed: the regions are still checked for partitions', () => {
    const config = baseConfig();
    config.aws.accounts[0].id = 1234;
    config.aws.regions.push('us-east-1');
    expect(loadError(config).message.split('\n')).toEqual([
      'jitbot.yaml: aws.accounts[0].id: 1234 is not a 12-digit AWS account id (quote it: "012345678901")',
      'jitbot.yaml: aws.regions[1]: us-east-1 is in partition aws but cn-north-1 is in aws-cn; one jitbot serves one partition',
    ]);
  });

  test("the only level is malformed: the policy's durations are still compared", () => {
    const config = baseConfig();
    manual(config).levels = ['ops'];
    Object.assign(manual(config), { minDuration: '8h', maxDuration: '2h' });
    expect(loadError(config).message.split('\n')).toEqual([
      'jitbot.yaml: policies[0].levels[0]: expected a mapping (key: value), got text',
      'jitbot.yaml: policies[0].minDuration: 8h is longer than maxDuration 2h: expected minDuration ≤ maxDuration',
    ]);
  });

  test('an empty list as written is reported once', () => {
    const config = baseConfig();
    config.aws.regions = [];
    expect(loadError(config).message).toBe('jitbot.yaml: aws.regions: expected at least one region, e.g. [cn-north-1]');
  });
});
