import { mayCancel, mayDecide, mayRevoke, personFacts, type AccessRules, type Person } from '../../src/core/authority';
import type { ApprovalLevel, Platform } from '../../src/core/model';
import { makeRequest } from '../support/fixtures';

// One rule for who may act, over one member matcher: platform user ids are exact (Slack U…, Teams AAD object ids,
// Feishu ou_… are case-sensitive ids), emails ignore case. Named users and role members are both covered.

const TEAMS_ID = '29:1AbCdEf-GhIjK_LmNoP';
const AAD_GUID = '8F2C1B4E-0D3A-4C7B-9E21-5A6B7C8D9E0F';

const rules: AccessRules = {
  roles: {
    'ops-approvers': { members: ['slack:U02ABCDEF', 'ops.lead@example.com', `teams:${AAD_GUID}`] },
    'security-leads': { members: ['feishu:ou_7dAbC123', 'Sec@Example.COM'] },
  },
  admins: ['slack:U0ADMIN', 'root@example.com'],
};

function who(platform: Platform, userId: string, email?: string) {
  return { platform, userId, displayName: userId, ...(email !== undefined && { email }) };
}

describe('personFacts: roles and admin through the one matcher', () => {
  test.each([
    ['Slack id, exact', who('slack', 'U02ABCDEF'), ['ops-approvers'], false],
    ['Slack id in another case is someone else', who('slack', 'u02abcdef'), [], false],
    ['same id on another platform is someone else', who('teams', 'U02ABCDEF'), [], false],
    ['Teams AAD object id, exact', who('teams', AAD_GUID), ['ops-approvers'], false],
    ['Teams AAD object id in lower case does not match', who('teams', AAD_GUID.toLowerCase()), [], false],
    ['Feishu open id, exact', who('feishu', 'ou_7dAbC123'), ['security-leads'], false],
    ['Feishu open id in another case', who('feishu', 'OU_7DABC123'), [], false],
    [
      'email in upper case matches a lower-case member',
      who('teams', TEAMS_ID, 'OPS.LEAD@EXAMPLE.COM'),
      ['ops-approvers'],
      false,
    ],
    [
      'member written in mixed case matches a lower-case email',
      who('dingtalk', 'manager1', 'sec@example.com'),
      ['security-leads'],
      false,
    ],
    ['an email-looking user id is not an email', who('console', 'ops.lead@example.com'), [], false],
    ['admin by exact id', who('slack', 'U0ADMIN'), [], true],
    ['admin by email in any case', who('feishu', 'ou_x', 'Root@Example.com'), [], true],
    ['admin id in another case is not an admin', who('slack', 'u0admin'), [], false],
  ])('%s', (_title, user, roles, admin) => {
    expect(personFacts(rules, user)).toMatchObject({ roles, admin });
  });
});

const person = (userId: string, extra: Partial<Person> = {}): Person => ({
  platform: 'slack',
  userId,
  displayName: userId,
  roles: [],
  admin: false,
  ...extra,
});

describe('mayDecide', () => {
  const level: ApprovalLevel = { roles: ['ops-approvers'], users: ['slack:U02ABCDEF', 'Kim@Example.com'], required: 1 };

  test.each([
    ['named by exact Slack id', person('U02ABCDEF'), { roles: [] }],
    ['named id in another case', person('u02abcdef'), undefined],
    ['named by email, any case', person('U0KIM', { email: 'KIM@example.COM' }), { roles: [] }],
    ['role member', person('U0OPS', { roles: ['ops-approvers', 'dba'] }), { roles: ['ops-approvers'] }],
    ['other role only', person('U0DBA', { roles: ['dba'] }), undefined],
    ['admin alone does not decide', person('U0ADMIN', { admin: true }), undefined],
    ['named and a role member: counted as named', person('U02ABCDEF', { roles: ['ops-approvers'] }), { roles: [] }],
  ])('%s', (_title, who, expected) => {
    expect(mayDecide(level, who)).toEqual(expected);
  });
});

describe('mayRevoke and mayCancel', () => {
  const request = makeRequest({
    requester: { ...makeRequest().requester, platform: 'slack', userId: 'U0DANA' },
    levels: [
      { roles: ['ops-approvers'], users: [], required: 1 },
      { roles: [], users: ['slack:U02ABCDEF'], required: 1 },
    ],
    status: 'active',
  });

  test.each([
    ['the requester', person('U0DANA'), true],
    ['the requester id in another case is someone else', person('u0dana'), false],
    ['a named approver of level 2 with a mixed-case Slack id', person('U02ABCDEF'), true],
    ['a role member of level 1', person('U0OPS', { roles: ['ops-approvers'] }), true],
    ['an admin', person('U0ADMIN', { admin: true }), true],
    ['anyone else', person('U0EVE', { roles: ['dba'] }), false],
  ])('revoke: %s → %s', (_title, who, expected) => {
    expect(mayRevoke(request, who)).toBe(expected);
  });

  test('only the requester cancels', () => {
    expect(mayCancel(request, person('U0DANA'))).toBe(true);
    expect(mayCancel(request, person('U0ADMIN', { admin: true }))).toBe(false);
    expect(mayCancel(request, person('U02ABCDEF'))).toBe(false);
  });
});
