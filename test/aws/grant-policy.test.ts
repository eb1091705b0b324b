import fc from 'fast-check';
import {
  grantIdFromSid,
  grantStatement,
  grantStatements,
  isoSeconds,
  managedPolicyDocument,
  parsePolicyDocument,
  policyDocument,
  type PolicyStatement,
  serializePolicy,
  statementGrant,
  statementId,
  withGrant,
  withoutGrant,
} from '../../src/aws/grant-policy';
import { formatCount, policyCharacters, sizeBudget } from '../../src/aws/policy-size';
import type { AwsPrincipal } from '../../src/core/model';
import { formatRequestId } from '../../src/core/request-id';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const HOUR = 3_600_000;
const node = makeRequest().target;
const user: AwsPrincipal = { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' };
const role: AwsPrincipal = {
  kind: 'iam-role',
  arn: 'arn:aws-cn:iam::111122223333:role/ops',
  sessionName: 'alice@example.com',
};

function statement(grantId: string, expiresAt: number, nodeId = node.id): PolicyStatement {
  return grantStatement({ grantId, node: { ...node, id: nodeId }, expiresAt, principal: user });
}

describe('grant statements', () => {
  test('Sids round-trip to request ids', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        const id = formatRequestId(bytes);
        expect(statementId(id)).toMatch(/^[A-Za-z0-9]+$/);
        expect(grantIdFromSid(statementId(id))).toBe(id);
      }),
    );
    expect(grantIdFromSid('NoGrants')).toBe('NoGrants');
  });

  test('expiry is written to the second, in UTC', () => {
    expect(isoSeconds(Date.UTC(2025, 0, 15, 11, 0, 0, 999))).toBe('2025-01-15T11:00:00Z');
  });

  test('a shared role pins aws:userid; several Identity Center roles give a sorted list', () => {
    expect(
      grantStatement({ grantId: 'JIT-7K3Q2', node, expiresAt: FIXTURE_NOW, principal: role, roleId: 'AROAEXAMPLE1' })
        .Condition.StringEquals,
    ).toEqual({
      'aws:userid': 'AROAEXAMPLE1:alice@example.com',
    });
    const sso: AwsPrincipal = {
      kind: 'sso-permission-set',
      arn: 'arn:aws-cn:sso:::permissionSet/x/y',
      sessionName: 'alice',
      policyName: 'p',
    };
    expect(
      grantStatement({
        grantId: 'JIT-7K3Q2',
        node,
        expiresAt: FIXTURE_NOW,
        principal: sso,
        roleIds: ['AROAZ', 'AROAA'],
      }).Condition.StringEquals,
    ).toEqual({
      'aws:userid': ['AROAA:alice', 'AROAZ:alice'],
    });
    expect(statement('JIT-7K3Q2', FIXTURE_NOW).Condition.StringEquals).toBeUndefined();
  });

  test('reads back what it wrote, including URL-encoded documents as IAM returns them', () => {
    const s = statement('JIT-7K3Q2', FIXTURE_NOW + HOUR, 'mi-0123456789abcdef0');
    const raw = encodeURIComponent(serializePolicy(policyDocument([s])));
    const [back] = grantStatements(parsePolicyDocument(raw));
    expect(back).toEqual(s);
    expect(statementGrant(back!)).toEqual({
      grantId: 'JIT-7K3Q2',
      nodeId: 'mi-0123456789abcdef0',
      nodeArn: 'arn:aws-cn:ssm:cn-north-1:111122223333:managed-instance/mi-0123456789abcdef0',
      expiresAt: FIXTURE_NOW + HOUR,
    });
  });

  test('the placeholder of an empty managed policy is not a grant', () => {
    const empty = managedPolicyDocument([], 'aws-cn');
    expect(grantStatements(empty)).toEqual([]);
    expect(JSON.stringify(empty)).toContain('arn:aws-cn:ec2:*:*:instance/jitbot-no-grants');
  });
});

describe('withGrant / withoutGrant', () => {
  const a = statement('JIT-AAAAA', FIXTURE_NOW + HOUR);
  const b = statement('JIT-BBBBB', FIXTURE_NOW + 2 * HOUR);
  const expired = statement('JIT-CCCCC', FIXTURE_NOW - 1);

  test('adds, replaces in place, and drops expired statements', () => {
    expect(withGrant([a, expired], b, FIXTURE_NOW)).toEqual([a, b]);
    const longerA = statement('JIT-AAAAA', FIXTURE_NOW + 5 * HOUR);
    expect(withGrant([a, b], longerA, FIXTURE_NOW)).toEqual([longerA, b]);
  });

  test('is idempotent', () => {
    const ids = fc.constantFrom('JIT-AAAAA', 'JIT-BBBBB', 'JIT-CCCCC', 'JIT-DDDDD');
    const arb = fc.array(fc.record({ id: ids, offset: fc.integer({ min: -HOUR, max: 10 * HOUR }) }), { maxLength: 8 });
    fc.assert(
      fc.property(arb, fc.record({ id: ids, offset: fc.integer({ min: 1, max: 10 * HOUR }) }), (existing, next) => {
        const start = existing.reduce<PolicyStatement[]>(
          (list, e) => withGrant(list, statement(e.id, FIXTURE_NOW + e.offset), FIXTURE_NOW - 2 * HOUR),
          [],
        );
        const s = statement(next.id, FIXTURE_NOW + next.offset);
        const once = withGrant(start, s, FIXTURE_NOW);
        expect(withGrant(once, s, FIXTURE_NOW)).toEqual(once);
        expect(once.filter((x) => x.Sid === s.Sid)).toEqual([s]);
        expect(withoutGrant(once, s.Sid, FIXTURE_NOW).some((x) => x.Sid === s.Sid)).toBe(false);
      }),
    );
  });

  test('withoutGrant removes only the named statement', () => {
    expect(withoutGrant([a, b, expired], a.Sid, FIXTURE_NOW)).toEqual([b]);
    expect(withoutGrant([b], 'JIT00000', FIXTURE_NOW)).toEqual([b]);
  });
});

describe('policy size', () => {
  test('counts characters the way IAM does: whitespace is free', () => {
    expect(policyCharacters('{ "a" :\n\t"b c" }')).toBe(10);
    const document = policyDocument([statement('JIT-7K3Q2', FIXTURE_NOW)]);
    expect(policyCharacters(JSON.stringify(document, null, 2))).toBe(policyCharacters(serializePolicy(document)));
  });

  test('inline budgets include the principal’s other inline policies; managed ones do not', () => {
    const own = 'x'.repeat(1_000);
    expect(sizeBudget('user-inline', own, ['y'.repeat(1_048)])).toMatchObject({ total: 2_048, fits: true });
    expect(sizeBudget('user-inline', own, ['y'.repeat(1_049)])).toMatchObject({
      total: 2_049,
      quota: 2_048,
      fits: false,
    });
    expect(sizeBudget('role-inline', own, ['y'.repeat(9_240)])).toMatchObject({ total: 10_240, fits: true });
    expect(sizeBudget('managed', 'x'.repeat(6_145), ['ignored'])).toMatchObject({
      total: 6_145,
      quota: 6_144,
      fits: false,
    });
  });

  test('a user holds at least five grants with no other inline policy, a role about thirty pinned ones', () => {
    const many = (n: number, principal: AwsPrincipal) =>
      serializePolicy(
        policyDocument(
          Array.from({ length: n }, (_, i) =>
            grantStatement({
              grantId: `JIT-${String(i).padStart(5, '0')}`,
              node,
              expiresAt: FIXTURE_NOW,
              principal,
              roleId: 'AROA0123456789EXAMPLE',
            }),
          ),
        ),
      );
    expect(sizeBudget('user-inline', many(5, user)).fits).toBe(true);
    expect(sizeBudget('role-inline', many(25, role)).fits).toBe(true);
  });

  test('formats counts with thousands separators', () => {
    expect([formatCount(7), formatCount(2_048), formatCount(10_240), formatCount(1_234_567)]).toEqual([
      '7',
      '2,048',
      '10,240',
      '1,234,567',
    ]);
  });
});
