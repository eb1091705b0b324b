import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountRoleTrustPolicy, botPolicy, requesterBasePolicy } from '../../src/aws/base-policy';
import { grantStatement, managedPolicyDocument } from '../../src/aws/grant-policy';
import { policyCharacters } from '../../src/aws/policy-size';
import { simulate } from './simulate-env';

const BOT_OPTIONS = {
  accounts: ['111122223333'],
  ssoPolicyNames: ['jitbot-grants-ops'],
  assumeRoleArns: ['arn:aws-cn:iam::444455556666:role/jitbot'],
  principalTag: { key: 'jitbot-requester', value: 'true' },
  selfArns: ['arn:aws-cn:iam::111122223333:role/jitbot'],
};

/** What each marked JSON block in docs/aws-iam.md must equal. */
const DOCUMENTED: Record<string, unknown> = {
  'grant-example aws-cn': grantStatement({
    grantId: 'JIT-7K3Q2',
    node: { id: 'i-0123456789abcdef0', account: '111122223333', region: 'cn-north-1', tags: {} },
    expiresAt: Date.parse('2026-10-01T12:00:00Z'),
    principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/ops', sessionName: 'alice@example.com' },
    roleId: 'AROAEXAMPLEROLEID1234',
  }),
  'requester-base aws-cn': requesterBasePolicy('aws-cn'),
  'requester-base aws': requesterBasePolicy('aws'),
  'sso-empty aws-cn': managedPolicyDocument([], 'aws-cn'),
  'bot aws-cn': botPolicy('aws-cn', BOT_OPTIONS),
  'account-trust aws-cn': accountRoleTrustPolicy({
    botPrincipalArn: 'arn:aws-cn:iam::111122223333:role/jitbot',
    externalId: 'REPLACE-WITH-YOUR-EXTERNAL-ID',
  }),
  'account-role aws-cn': botPolicy('aws-cn', {
    accounts: ['444455556666'],
    ssoPolicyNames: ['jitbot-grants-ops'],
    principalTag: { key: 'jitbot-requester', value: 'true' },
    selfArns: ['arn:aws-cn:iam::444455556666:role/jitbot'],
  }),
};

function documentedBlocks(): Map<string, unknown> {
  const text = readFileSync(join(__dirname, '../../docs/aws-iam.md'), 'utf8');
  const blocks = new Map<string, unknown>();
  const marked = /<!-- policy: ([^>]+?) -->\s*\n\s*```json\n([\s\S]*?)\n\s*```/g;
  for (const match of text.matchAll(marked)) blocks.set(match[1]!, JSON.parse(match[2]!));
  return blocks;
}

describe('docs/aws-iam.md', () => {
  const blocks = documentedBlocks();

  test('documents every generated policy', () => {
    expect([...blocks.keys()].sort()).toEqual(Object.keys(DOCUMENTED).sort());
  });

  test.each(Object.keys(DOCUMENTED))('the JSON for "%s" matches the code', (key) => {
    expect(blocks.get(key)).toEqual(DOCUMENTED[key]);
  });
});

describe('requesterBasePolicy', () => {
  test('never allows StartSession on a node, in any partition', () => {
    for (const partition of ['aws', 'aws-cn', 'aws-us-gov'] as const) {
      const text = JSON.stringify(requesterBasePolicy(partition));
      expect(text).not.toMatch(/instance\//);
      expect(text.match(/arn:[^:"]+/g)!.every((prefix) => prefix === `arn:${partition}`)).toBe(true);
    }
  });

  test('narrowed to regions and accounts, AWS-owned documents keep the * account', () => {
    const policy = requesterBasePolicy('aws-cn', {
      regions: ['cn-north-1', 'cn-northwest-1'],
      accounts: ['111122223333'],
    });
    expect(policy.Statement[0]!.Resource).toEqual([
      'arn:aws-cn:ssm:cn-north-1:111122223333:document/SSM-SessionManagerRunShell',
      'arn:aws-cn:ssm:cn-northwest-1:111122223333:document/SSM-SessionManagerRunShell',
      'arn:aws-cn:ssm:cn-north-1:*:document/AWS-StartPortForwardingSession',
      'arn:aws-cn:ssm:cn-northwest-1:*:document/AWS-StartPortForwardingSession',
      'arn:aws-cn:ssm:cn-north-1:*:document/AWS-StartSSHSession',
      'arn:aws-cn:ssm:cn-northwest-1:*:document/AWS-StartSSHSession',
    ]);
  });

  test('fits comfortably in a managed policy', () => {
    expect(policyCharacters(JSON.stringify(requesterBasePolicy('aws-cn')))).toBeLessThan(1_500);
  });
});

describe('botPolicy', () => {
  const policy = botPolicy('aws-cn', BOT_OPTIONS);
  const bot = {
    principal: 'arn:aws-cn:sts::111122223333:assumed-role/jitbot/jitbot',
    userId: 'AROABOT:jitbot',
    account: '111122223333',
    at: '2026-01-01T00:00:00Z',
  };
  const check = (action: string, resource: string, context: Record<string, string> = {}) =>
    simulate([{ name: 'bot', policy }], { ...bot, action, resource, context });

  test('may write grants only on tagged users and roles', async () => {
    const tagged = { 'aws:ResourceTag/jitbot-requester': 'true' };
    expect(await check('iam:PutUserPolicy', 'arn:aws-cn:iam::111122223333:user/dana', tagged)).toBe('Allowed');
    expect(await check('iam:PutUserPolicy', 'arn:aws-cn:iam::111122223333:user/dana')).toBe('ImplicitlyDenied');
    expect(await check('iam:PutRolePolicy', 'arn:aws-cn:iam::111122223333:role/ops', tagged)).toBe('Allowed');
    expect(await check('iam:PutUserPolicy', 'arn:aws-cn:iam::999999999999:user/dana', tagged)).toBe('ImplicitlyDenied');
  });

  test('can never edit itself, even if it carries the tag', async () => {
    const tagged = { 'aws:ResourceTag/jitbot-requester': 'true' };
    expect(await check('iam:PutRolePolicy', 'arn:aws-cn:iam::111122223333:role/jitbot', tagged)).toBe(
      'ExplicitlyDenied',
    );
    expect(await check('iam:AttachRolePolicy', 'arn:aws-cn:iam::111122223333:role/jitbot')).toBe('ExplicitlyDenied');
  });

  test('may rewrite only the named Identity Center policies', async () => {
    expect(await check('iam:CreatePolicyVersion', 'arn:aws-cn:iam::111122223333:policy/jitbot-grants-ops')).toBe(
      'Allowed',
    );
    expect(await check('iam:CreatePolicyVersion', 'arn:aws-cn:iam::111122223333:policy/AdminAccess')).toBe(
      'ImplicitlyDenied',
    );
  });

  test('reads nodes, ends sessions and assumes only the configured roles', async () => {
    expect(
      await check('ssm:TerminateSession', 'arn:aws-cn:ssm:cn-north-1:111122223333:session/alice-0123456789abcdef0'),
    ).toBe('Allowed');
    expect(
      await check(
        'ssm:ListTagsForResource',
        'arn:aws-cn:ssm:cn-north-1:111122223333:managed-instance/mi-0123456789abcdef0',
      ),
    ).toBe('Allowed');
    expect(await check('sts:AssumeRole', 'arn:aws-cn:iam::444455556666:role/jitbot')).toBe('Allowed');
    expect(await check('sts:AssumeRole', 'arn:aws-cn:iam::444455556666:role/admin')).toBe('ImplicitlyDenied');
    expect(await check('ssm:StartSession', 'arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0123456789abcdef0')).toBe(
      'ImplicitlyDenied',
    );
  });

  test('has no Identity Center, table or assume-role statements unless asked', () => {
    const minimal = botPolicy('aws');
    expect(minimal.Statement.map((s) => s.Sid)).toEqual([
      'GrantsOnUsersAndRoles',
      'DoctorReadsRequesterPolicies',
      'NodesAndSessions',
      'HybridNodeTags',
      'EndSessions',
    ]);
    expect(
      botPolicy('aws', { tableArn: 'arn:aws:dynamodb:us-east-1:111122223333:table/jitbot' }).Statement.at(-1),
    ).toMatchObject({
      Sid: 'StateTable',
      Resource: [
        'arn:aws:dynamodb:us-east-1:111122223333:table/jitbot',
        'arn:aws:dynamodb:us-east-1:111122223333:table/jitbot/index/*',
      ],
    });
  });
});
