import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../../src/aws/clients';
import { GRANT_POLICY_NAME, parsePolicyDocument } from '../../src/aws/grant-policy';
import { IamGranter } from '../../src/aws/iam-granter';
import { PrincipalBusy, principalLeaseName } from '../../src/aws/principal-lease';
import type { AwsPrincipal, JitRequest, Node } from '../../src/core/model';
import { formatRequestId } from '../../src/core/request-id';
import { GrantRefused } from '../../src/ports/granter';
import type { OpenedStore } from '../../src/store/open-store';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';
import { FakeSessions, inMemoryStore, MOTO_ACCOUNT, motoClients, setupIam, uniqueName } from './simulate-env';

const HOUR = 3_600_000;
const REGION = 'cn-north-1';
const ASSUME_ROLE_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws-cn:iam::${MOTO_ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
  ],
});

let opened: OpenedStore;
let clients: AwsClients;
let iam: IAMClient;
let clock: ManualClock;
let sessions: FakeSessions;
let granter: IamGranter;
let ids = 0;

beforeAll(async () => {
  opened = await inMemoryStore();
  clients = motoClients(REGION);
  iam = setupIam(REGION);
});

afterAll(async () => {
  clients.destroy();
  iam.destroy();
  await opened.close();
});

beforeEach(() => {
  clock = new ManualClock(FIXTURE_NOW);
  sessions = new FakeSessions(2);
  granter = new IamGranter({ clients, store: opened.store, sessions, owner: 'test-granter', clock });
});

function nextId(): string {
  const n = (process.pid * 7919 + ++ids * 104_729) >>> 0;
  return formatRequestId(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
}

function node(id = 'i-0123456789abcdef0', overrides: Partial<Node> = {}): Node {
  return { id, account: MOTO_ACCOUNT, region: REGION, name: 'web-1', tags: {}, ...overrides };
}

function requestFor(principal: AwsPrincipal, target: Node = node()): JitRequest {
  const base = makeRequest();
  return { ...base, id: nextId(), status: 'approved', requester: { ...base.requester, principal }, target };
}

async function newUser(): Promise<{ name: string; principal: AwsPrincipal }> {
  const name = uniqueName('dana');
  await iam.send(new CreateUserCommand({ UserName: name }));
  return { name, principal: { kind: 'iam-user', arn: `arn:aws-cn:iam::${MOTO_ACCOUNT}:user/${name}` } };
}

async function newRole(path = '/'): Promise<{ name: string; arn: string; roleId: string }> {
  const name = uniqueName('ops');
  const { Role } = await iam.send(
    new CreateRoleCommand({ RoleName: name, Path: path, AssumeRolePolicyDocument: ASSUME_ROLE_TRUST }),
  );
  return { name, arn: Role!.Arn!, roleId: Role!.RoleId! };
}

async function userPolicy(userName: string): Promise<any | undefined> {
  try {
    const out = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: GRANT_POLICY_NAME }));
    return parsePolicyDocument(out.PolicyDocument!);
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
}

async function rolePolicy(roleName: string): Promise<any | undefined> {
  try {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: GRANT_POLICY_NAME }));
    return parsePolicyDocument(out.PolicyDocument!);
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
}

async function managedPolicy(policyArn: string): Promise<any> {
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const { PolicyVersion } = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: Policy!.DefaultVersionId! }),
  );
  return parsePolicyDocument(PolicyVersion!.Document!);
}

const sids = (document: any): string[] => (document?.Statement ?? []).map((s: { Sid: string }) => s.Sid);

describe('IamGranter with an IAM user', () => {
  test('writes one statement: StartSession on exactly the node, until the expiry, with the document check', async () => {
    const { name, principal } = await newUser();
    const request = requestFor(principal);
    const grant = await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + 2 * HOUR);

    expect(grant).toMatchObject({
      grantId: request.id,
      dryRun: false,
      startsAt: FIXTURE_NOW,
      expiresAt: FIXTURE_NOW + 2 * HOUR,
    });
    expect(grant.summary).toContain(`arn:aws-cn:ec2:cn-north-1:${MOTO_ACCOUNT}:instance/i-0123456789abcdef0`);
    expect(grant.detail).toBe(`iam:PutUserPolicy UserName=${name} PolicyName=jitbot-grants`);
    expect(await userPolicy(name)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: request.id.replace('-', ''),
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: `arn:aws-cn:ec2:cn-north-1:${MOTO_ACCOUNT}:instance/i-0123456789abcdef0`,
          Condition: {
            DateLessThan: { 'aws:CurrentTime': '2025-01-15T11:00:00Z' },
            BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
          },
        },
      ],
    });
  });

  test('re-running the same grant gives the same document and writes nothing', async () => {
    const { name, principal } = await newUser();
    const request = requestFor(principal);
    await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    const first = await userPolicy(name);
    const again = await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    expect(await userPolicy(name)).toEqual(first);
    expect(again.detail).toMatch(/no IAM write needed/);
  });

  test('two grants for one person at the same moment both survive', async () => {
    const { name, principal } = await newUser();
    const a = requestFor(principal, node('i-0aaaaaaaaaaaaaaa1'));
    const b = requestFor(principal, node('i-0bbbbbbbbbbbbbbb2'));
    const other = new IamGranter({ clients, store: opened.store, sessions, owner: 'another-replica', clock });
    await Promise.all([
      granter.grant(a, FIXTURE_NOW, FIXTURE_NOW + HOUR),
      other.grant(b, FIXTURE_NOW, FIXTURE_NOW + HOUR),
    ]);
    expect(sids(await userPolicy(name)).sort()).toEqual([a.id, b.id].map((id) => id.replace('-', '')).sort());
  });

  test('statements that have expired are dropped on the next write', async () => {
    const { name, principal } = await newUser();
    const old = requestFor(principal, node('i-0aaaaaaaaaaaaaaa1'));
    await granter.grant(old, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    clock.advance(HOUR + 1_000);
    const fresh = requestFor(principal, node('i-0bbbbbbbbbbbbbbb2'));
    await granter.grant(fresh, clock.now(), clock.now() + HOUR);
    expect(sids(await userPolicy(name))).toEqual([fresh.id.replace('-', '')]);
  });

  test('revoke removes only its statement, deletes the policy when empty, ends sessions, and is idempotent', async () => {
    const { name, principal } = await newUser();
    const a = requestFor(principal, node('i-0aaaaaaaaaaaaaaa1'));
    const b = requestFor(principal, node('i-0bbbbbbbbbbbbbbb2'));
    await granter.grant(a, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    await granter.grant(b, FIXTURE_NOW, FIXTURE_NOW + 2 * HOUR);

    const first = await granter.revoke(a);
    expect(first.sessionsTerminated).toBe(2);
    expect(first.summary).toMatch(/removed statement/);
    expect(sids(await userPolicy(name))).toEqual([b.id.replace('-', '')]);

    await granter.revoke(b);
    expect(await userPolicy(name)).toBeUndefined();

    const again = await granter.revoke(b);
    expect(again.summary).toMatch(/already gone/);
    expect(sessions.calls).toEqual([a.id, b.id, b.id]);
  });

  test('a grant that would exceed the 2,048-character user quota is refused and nothing is written', async () => {
    const { name, principal } = await newUser();
    // Another inline policy of the user's counts towards the same quota.
    const filler = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Filler', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws-cn:s3:::${'x'.repeat(1_700)}/*` },
      ],
    };
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: 'team-extras',
        PolicyDocument: JSON.stringify(filler, null, 2),
      }),
    );
    const request = requestFor(principal);
    const refusal = granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    await expect(refusal).rejects.toBeInstanceOf(GrantRefused);
    await expect(refusal).rejects.toThrow(
      new RegExp(
        `^web-1: jitbot-grants for IAM user ${name} would be [0-9],[0-9]{3} of 2,048 characters \\(IAM quota\\); ask an admin`,
      ),
    );
    expect(await userPolicy(name)).toBeUndefined();
  });

  test('grants are added until the quota is reached; the refused one leaves the document unchanged', async () => {
    const { name, principal } = await newUser();
    let granted = 0;
    let refused: unknown;
    let before: unknown;
    for (let i = 0; i < 20 && !refused; i++) {
      before = await userPolicy(name);
      try {
        await granter.grant(
          requestFor(principal, node(`i-0${String(i).padStart(16, '0')}`)),
          FIXTURE_NOW,
          FIXTURE_NOW + HOUR,
        );
        granted++;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(GrantRefused);
    expect(granted).toBeGreaterThanOrEqual(5);
    expect(await userPolicy(name)).toEqual(before);
  });

  test('a user that does not exist is refused with a clear message', async () => {
    const name = uniqueName('ghost');
    const request = requestFor({ kind: 'iam-user', arn: `arn:aws-cn:iam::${MOTO_ACCOUNT}:user/${name}` });
    await expect(granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toThrow(
      new GrantRefused(`IAM user ${name} does not exist in ${MOTO_ACCOUNT}`),
    );
    // Revoking for a missing user is nothing to do, not an error.
    await expect(granter.revoke(request)).resolves.toMatchObject({ sessionsTerminated: 2 });
  });

  test('a principal in an account jitbot does not manage is refused', async () => {
    const request = requestFor({ kind: 'iam-user', arn: 'arn:aws-cn:iam::999988887777:user/dana' });
    await expect(granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toThrow(
      'IAM user dana is in account 999988887777, which is not listed under aws.accounts',
    );
  });

  test('listOwnedGrantsFor reads the statements back', async () => {
    const { principal } = await newUser();
    const request = requestFor(principal, node('mi-0123456789abcdef0'));
    await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + 3 * HOUR);
    expect(await granter.listOwnedGrantsFor([principal])).toEqual([
      {
        grantId: request.id,
        principalArn: principal.arn,
        principal,
        account: MOTO_ACCOUNT,
        policyArn: principal.arn,
        nodeId: 'mi-0123456789abcdef0',
        nodeArn: `arn:aws-cn:ssm:cn-north-1:${MOTO_ACCOUNT}:managed-instance/mi-0123456789abcdef0`,
        expiresAt: FIXTURE_NOW + 3 * HOUR,
      },
    ]);
  });
});

describe('IamGranter with a shared IAM role', () => {
  test('pins each statement to the person with aws:userid = <RoleId>:<sessionName>', async () => {
    const role = await newRole();
    const alice: AwsPrincipal = { kind: 'iam-role', arn: role.arn, sessionName: 'alice@example.com' };
    const bob: AwsPrincipal = { kind: 'iam-role', arn: role.arn, sessionName: 'bob@example.com' };
    const a = requestFor(alice);
    const b = requestFor(bob);
    await Promise.all([
      granter.grant(a, FIXTURE_NOW, FIXTURE_NOW + HOUR),
      granter.grant(b, FIXTURE_NOW, FIXTURE_NOW + HOUR),
    ]);

    const { Role } = await iam.send(new GetRoleCommand({ RoleName: role.name }));
    const document = await rolePolicy(role.name);
    const userIds = Object.fromEntries(
      document.Statement.map((s: any) => [s.Sid, s.Condition.StringEquals['aws:userid']]),
    );
    expect(userIds).toEqual({
      [a.id.replace('-', '')]: `${Role!.RoleId}:alice@example.com`,
      [b.id.replace('-', '')]: `${Role!.RoleId}:bob@example.com`,
    });

    await granter.revoke(a);
    await granter.revoke(b);
    expect(await rolePolicy(role.name)).toBeUndefined();
  });

  test('a role principal without a session name is refused rather than opened to everyone on the role', async () => {
    const role = await newRole();
    const request = requestFor({ kind: 'iam-role', arn: role.arn });
    await expect(granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toThrow(/needs a session name/);
    expect(await rolePolicy(role.name)).toBeUndefined();
  });

  test('a role that does not exist is refused', async () => {
    const name = uniqueName('norole');
    const request = requestFor({
      kind: 'iam-role',
      arn: `arn:aws-cn:iam::${MOTO_ACCOUNT}:role/${name}`,
      sessionName: 'alice',
    });
    await expect(granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toThrow(
      `IAM role ${name} does not exist in ${MOTO_ACCOUNT}`,
    );
  });
});

describe('IamGranter with an Identity Center permission set', () => {
  const permissionSetArn = 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';

  function ssoPrincipal(policyName: string, sessionName = 'alice@example.com'): AwsPrincipal {
    return { kind: 'sso-permission-set', arn: permissionSetArn, sessionName, policyName };
  }

  test('creates the missing policy, but refuses until the permission set is provisioned with it', async () => {
    const policyName = uniqueName('jit-ps');
    const policyArn = `arn:aws-cn:iam::${MOTO_ACCOUNT}:policy/${policyName}`;
    const request = requestFor(ssoPrincipal(policyName));
    await expect(granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toThrow(
      `policy ${policyName} in account ${MOTO_ACCOUNT} is not attached to any Identity Center role yet`,
    );
    // It exists now (so the permission set can be provisioned), holding no grant.
    expect(await managedPolicy(policyArn)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'NoGrants',
          Effect: 'Deny',
          Action: 'ssm:StartSession',
          Resource: 'arn:aws-cn:ec2:*:*:instance/jitbot-no-grants',
        },
      ],
    });
  });

  test('writes grants as policy versions, pinned to the AWSReservedSSO role, pruning to five versions', async () => {
    const policyName = uniqueName('jit-ps');
    const policyArn = `arn:aws-cn:iam::${MOTO_ACCOUNT}:policy/${policyName}`;
    // First contact creates the policy; then "provision" the permission set: an SSO role with the policy attached.
    await granter.grant(requestFor(ssoPrincipal(policyName)), FIXTURE_NOW, FIXTURE_NOW + HOUR).catch(() => undefined);
    const role = await newRole('/aws-reserved/sso.amazonaws.com/');
    await iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: policyArn }));
    // A role outside the Identity Center path that also has the policy must not widen the grant.
    const other = await newRole('/');
    await iam.send(new AttachRolePolicyCommand({ RoleName: other.name, PolicyArn: policyArn }));

    const requests = Array.from({ length: 4 }, (_, i) =>
      requestFor(ssoPrincipal(policyName, `user${i}@example.com`), node(`i-0${i}aaaaaaaaaaaaaaa`)),
    );
    for (const request of requests) await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    await granter.revoke(requests[0]!);
    await granter.revoke(requests[1]!);

    const document = await managedPolicy(policyArn);
    expect(sids(document)).toEqual(requests.slice(2).map((r) => r.id.replace('-', '')));
    expect(document.Statement[0].Condition.StringEquals['aws:userid']).toBe(`${role.roleId}:user2@example.com`);
    const { Versions } = await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }));
    expect(Versions!.length).toBe(5);
    expect(Versions!.filter((v) => v.IsDefaultVersion)).toHaveLength(1);

    await granter.revoke(requests[2]!);
    await granter.revoke(requests[3]!);
    expect(sids(await managedPolicy(policyArn))).toEqual(['NoGrants']);
    expect(await granter.listOwnedGrantsFor([ssoPrincipal(policyName)], [MOTO_ACCOUNT])).toEqual([]);
  });
});

describe('IamGranter in the global partition', () => {
  test('uses arn:aws: ARNs for us-east-1 nodes', async () => {
    const globalClients = motoClients('us-east-1');
    const globalIam = setupIam('us-east-1');
    try {
      const name = uniqueName('dana');
      await globalIam.send(new CreateUserCommand({ UserName: name }));
      const global = new IamGranter({
        clients: globalClients,
        store: opened.store,
        sessions,
        owner: 'test-granter',
        clock,
      });
      const request = requestFor(
        { kind: 'iam-user', arn: `arn:aws:iam::${MOTO_ACCOUNT}:user/${name}` },
        node('i-0123456789abcdef0', { region: 'us-east-1' }),
      );
      await global.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
      const out = await globalIam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: GRANT_POLICY_NAME }));
      const document = parsePolicyDocument(out.PolicyDocument!) as any;
      expect(document.Statement[0].Resource).toBe(`arn:aws:ec2:us-east-1:${MOTO_ACCOUNT}:instance/i-0123456789abcdef0`);
    } finally {
      globalClients.destroy();
      globalIam.destroy();
    }
  });
});

describe('IamGranter coordination', () => {
  test('a principal whose lease stays busy fails with a retryable PrincipalBusy and writes nothing', async () => {
    const { name, principal } = await newUser();
    await opened.store.acquireLease(principalLeaseName(principal.arn), 'stuck-replica', clock.now(), 60_000);
    const impatient = new IamGranter({
      clients,
      store: opened.store,
      sessions,
      owner: 'test-granter',
      clock,
      lease: { maxWaitMs: 20, firstStepMs: 5 },
    });
    await expect(impatient.grant(requestFor(principal), FIXTURE_NOW, FIXTURE_NOW + HOUR)).rejects.toBeInstanceOf(
      PrincipalBusy,
    );
    expect(await userPolicy(name)).toBeUndefined();
  });

  test('restoreGrant writes only for a request that is still active, re-read from the store', async () => {
    const { name, principal } = await newUser();
    const request = requestFor(principal);
    const grant = {
      grantId: request.id,
      startsAt: FIXTURE_NOW,
      expiresAt: FIXTURE_NOW + HOUR,
      dryRun: false,
      summary: '',
    };
    await opened.store.createRequest({ ...request, status: 'revoked', grant });
    expect(await granter.restoreGrant(request.id)).toBeUndefined();
    expect(await userPolicy(name)).toBeUndefined();

    const active = requestFor(principal);
    await opened.store.createRequest({ ...active, status: 'active', grant: { ...grant, grantId: active.id } });
    expect(await granter.restoreGrant(active.id)).toMatchObject({ grantId: active.id, expiresAt: FIXTURE_NOW + HOUR });
    expect(sids(await userPolicy(name))).toEqual([active.id.replace('-', '')]);
  });

  test('removeOrphan leaves a grant that is being made alone', async () => {
    const { name, principal } = await newUser();
    const request = requestFor(principal);
    await opened.store.createRequest(request); // approved: the grant effect is running
    await granter.grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    const [owned] = await granter.listOwnedGrantsFor([principal]);
    expect(await granter.removeOrphan(owned!)).toEqual({ removed: false, sessionsTerminated: 0, status: 'approved' });
    expect(sids(await userPolicy(name))).toEqual([request.id.replace('-', '')]);
  });
});
