import fc from 'fast-check';
import type { IdentityRule, RoleConfig } from '../../src/config/types';
import {
  canonicalMemberRef,
  channelRoles,
  channelsForRole,
  isAdmin,
  memberMatches,
  parseMemberRef,
  renderSessionName,
  resolveRequester,
  roleOfChannel,
  rolesOf,
  type ChatUser,
} from '../../src/core/identity';
import type { ChannelMapping } from '../../src/ports/store';

const DANA_ARN = 'arn:aws-cn:iam::111122223333:user/dana';
const ENGINEERS_PS = 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';

const identities: IdentityRule[] = [
  // Deliberately listed after the rules it must lose to, to show precedence does not depend on order.
  {
    match: { emailDomain: 'example.cn' },
    principal: {
      kind: 'sso-permission-set',
      permissionSetArn: ENGINEERS_PS,
      policyName: 'ssm-jit-engineers',
      sessionName: '{email}',
    },
    groups: ['engineers'],
  },
  { match: { email: 'dana@example.cn' }, principal: { kind: 'iam-user', arn: DANA_ARN }, groups: ['developers'] },
  {
    match: { platform: 'slack', userId: 'U0DANA' },
    principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/oncall', sessionName: 'jit-{userId}' },
    groups: ['oncall'],
  },
  {
    match: { platform: 'feishu', userId: 'ou_named' },
    principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/ops', sessionName: '{name}' },
    groups: [],
  },
  {
    match: { platform: 'teams', userId: 'needs-email' },
    principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/ops', sessionName: '{email}' },
    groups: ['ops'],
  },
];
const config = { identities };

const user = (platform: ChatUser['platform'], userId: string, displayName: string, email?: string): ChatUser =>
  email === undefined ? { platform, userId, displayName } : { platform, userId, displayName, email };

describe('resolveRequester', () => {
  test.each([
    [
      'explicit platform:userId wins over the email and the domain',
      user('slack', 'U0DANA', 'Dana', 'dana@example.cn'),
      {
        principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/oncall', sessionName: 'jit-U0DANA' },
        groups: ['oncall'],
      },
    ],
    [
      'exact email wins over the domain, ignoring case',
      user('feishu', 'ou_dana', 'Dana', 'Dana@Example.CN'),
      { principal: { kind: 'iam-user', arn: DANA_ARN }, groups: ['developers'] },
    ],
    [
      'domain default renders the session name from the email (lower-cased)',
      user('dingtalk', '0123', 'Wang Lei', 'Wang.Lei@EXAMPLE.cn'),
      {
        principal: {
          kind: 'sso-permission-set',
          arn: ENGINEERS_PS,
          policyName: 'ssm-jit-engineers',
          sessionName: 'wang.lei@example.cn',
        },
        groups: ['engineers'],
      },
    ],
    ['unmapped: another domain', user('slack', 'U0X', 'Mallory', 'mallory@example.com'), { groups: [] }],
    ['unmapped: a subdomain is not the domain', user('slack', 'U0Y', 'Sub', 'sub@ops.example.cn'), { groups: [] }],
    ['unmapped: no email and no explicit rule', user('slack', 'U0Z', 'Nobody'), { groups: [] }],
    ['same user id on another platform does not match', user('teams', 'U0DANA', 'Not Dana'), { groups: [] }],
    [
      '{name} is made safe for AWS: spaces and other characters become "-"',
      user('feishu', 'ou_named', '李 Lei (ops)'),
      {
        principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/ops', sessionName: '--Lei--ops-' },
        groups: [],
      },
    ],
    [
      'a pattern needing an email the platform did not give: groups but no principal',
      user('teams', 'needs-email', 'Pat'),
      { groups: ['ops'] },
    ],
  ])('%s', (_title, who, expected) => {
    expect(resolveRequester(config, who)).toEqual(expected);
  });

  test('returned groups are copies', () => {
    const resolved = resolveRequester(config, user('slack', 'U0DANA', 'Dana'));
    resolved.groups.push('admins');
    expect(identities[2]!.groups).toEqual(['oncall']);
  });
});

describe('renderSessionName', () => {
  const who = user('slack', 'U123', 'Ann Lee', 'Ann@Example.cn');

  test.each([
    ['{email}', 'ann@example.cn'],
    ['{userId}', 'U123'],
    ['jit-{userId}-{name}', 'jit-U123-Ann-Lee'],
    ['{name}@{email}', 'Ann-Lee@ann@example.cn'],
  ])('%s → %s', (pattern, expected) => {
    expect(renderSessionName(pattern, who)).toBe(expected);
  });

  test('is cut to 64 characters and refuses names shorter than 2', () => {
    expect(renderSessionName('{name}', user('slack', 'U1', 'x'.repeat(100)))).toBe('x'.repeat(64));
    expect(renderSessionName('{userId}', user('slack', 'U', 'U'))).toBeUndefined();
  });

  test('always yields a valid AWS role session name or nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('{email}', '{userId}', '{name}', 'jit-{name}', '{userId}.{email}'),
        fc.string(),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        (pattern, userId, displayName, email) => {
          const rendered = renderSessionName(pattern, {
            platform: 'slack',
            userId,
            displayName,
            ...(email === undefined ? {} : { email }),
          });
          if (rendered !== undefined) expect(rendered).toMatch(/^[\w+=,.@-]{2,64}$/);
        },
      ),
    );
  });
});

describe('member references', () => {
  test.each([
    ['slack:U0123', { kind: 'user', platform: 'slack', userId: 'U0123' }],
    ['console:carol', { kind: 'user', platform: 'console', userId: 'carol' }],
    ['Carol@Example.CN', { kind: 'email', email: 'carol@example.cn' }],
    ['carol', undefined],
    ['irc:carol', undefined],
    ['slack:', undefined],
  ])('%s', (text, expected) => {
    expect(parseMemberRef(text)).toEqual(expected);
  });

  test('canonical form', () => {
    expect(canonicalMemberRef(' Bob@Example.cn ')).toBe('bob@example.cn');
    expect(canonicalMemberRef('teams:AbC-123')).toBe('teams:AbC-123');
  });

  test('user ids are exact, emails ignore case', () => {
    expect(memberMatches('slack:U0ABC', { platform: 'slack', userId: 'U0ABC' })).toBe(true);
    expect(memberMatches('slack:U0ABC', { platform: 'slack', userId: 'u0abc' })).toBe(false);
    expect(memberMatches('slack:U0ABC', { platform: 'teams', userId: 'U0ABC' })).toBe(false);
    expect(memberMatches('ann@example.cn', { platform: 'teams', userId: 'x', email: 'ANN@example.cn' })).toBe(true);
    expect(memberMatches('ann@example.cn', { platform: 'teams', userId: 'ann@example.cn' })).toBe(false);
  });
});

const roles: Record<string, RoleConfig> = {
  'ops-approvers': {
    members: ['console:alice', 'carol@example.cn'],
    channels: { console: 'ops-approvals', slack: 'C0OPS' },
  },
  'security-leads': { members: ['console:bob', 'carol@example.cn'], channels: { console: 'security-approvals' } },
  dba: { members: [], channels: {} },
};
const rolesConfig = { roles, admins: ['carol@example.cn', 'console:dana'] };

describe('rolesOf and isAdmin', () => {
  test.each([
    ['by platform:userId', user('console', 'alice', 'Alice'), ['ops-approvers']],
    [
      'by email, in config order, several roles',
      user('slack', 'U0C', 'Carol', 'CAROL@example.cn'),
      ['ops-approvers', 'security-leads'],
    ],
    ['not a member', user('console', 'dana', 'Dana'), []],
    ['the same id on another platform is someone else', user('slack', 'alice', 'Alice'), []],
  ])('%s', (_title, who, expected) => {
    expect(rolesOf(rolesConfig, who)).toEqual(expected);
  });

  test('admins by email or platform:userId', () => {
    expect(isAdmin(rolesConfig, user('feishu', 'ou_c', 'Carol', 'carol@EXAMPLE.cn'))).toBe(true);
    expect(isAdmin(rolesConfig, user('console', 'dana', 'Dana'))).toBe(true);
    expect(isAdmin(rolesConfig, user('slack', 'dana', 'Dana'))).toBe(false);
    expect(isAdmin(rolesConfig, user('console', 'alice', 'Alice'))).toBe(false);
  });
});

describe('channel → role mappings', () => {
  const mapping = (platform: ChannelMapping['platform'], channelId: string, role: string): ChannelMapping => ({
    platform,
    channelId,
    role,
    mappedBy: 'console:carol',
    mappedAt: 1_700_000_000_000,
  });

  test('file mappings alone, sorted by platform then channel', () => {
    expect(channelRoles(rolesConfig, [])).toEqual([
      { platform: 'console', channelId: 'ops-approvals', role: 'ops-approvers', source: 'config' },
      { platform: 'console', channelId: 'security-approvals', role: 'security-leads', source: 'config' },
      { platform: 'slack', channelId: 'C0OPS', role: 'ops-approvers', source: 'config' },
    ]);
  });

  test('stored mappings win over the file for the same channel and add new channels', () => {
    const effective = channelRoles(rolesConfig, [
      mapping('slack', 'C0OPS', 'dba'),
      mapping('feishu', 'oc_sec', 'security-leads'),
    ]);
    expect(effective).toContainEqual({
      platform: 'slack',
      channelId: 'C0OPS',
      role: 'dba',
      source: 'runtime',
      mappedBy: 'console:carol',
      mappedAt: 1_700_000_000_000,
    });
    expect(effective.filter((e) => e.channelId === 'C0OPS')).toHaveLength(1);
    expect(effective.map((e) => `${e.platform}:${e.channelId}`)).toEqual([
      'console:ops-approvals',
      'console:security-approvals',
      'slack:C0OPS',
      'feishu:oc_sec',
    ]);
  });

  test('a stored mapping with an empty role hides the file mapping; one for an unknown role is ignored', () => {
    const effective = channelRoles(rolesConfig, [
      mapping('console', 'ops-approvals', ''),
      mapping('slack', 'C0OPS', 'removed-role'),
    ]);
    expect(effective.map((e) => [e.channelId, e.role, e.source])).toEqual([
      ['security-approvals', 'security-leads', 'config'],
      ['C0OPS', 'ops-approvers', 'config'],
    ]);
  });

  test('channelsForRole and roleOfChannel use the effective map', () => {
    const stored = [mapping('slack', 'C0OPS', 'dba'), mapping('teams', '19:ops@thread', 'ops-approvers')];
    expect(channelsForRole(rolesConfig, stored, 'ops-approvers')).toEqual([
      { platform: 'console', channelId: 'ops-approvals' },
      { platform: 'teams', channelId: '19:ops@thread' },
    ]);
    expect(channelsForRole(rolesConfig, stored, 'dba')).toEqual([{ platform: 'slack', channelId: 'C0OPS' }]);
    expect(roleOfChannel(rolesConfig, stored, { platform: 'slack', channelId: 'C0OPS' })).toBe('dba');
    expect(roleOfChannel(rolesConfig, stored, { platform: 'slack', channelId: 'C0NONE' })).toBeUndefined();
  });
});
