import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { requesterBasePolicy } from '../../src/aws/base-policy';
import type { AwsClients } from '../../src/aws/clients';
import { GRANT_POLICY_NAME, parsePolicyDocument } from '../../src/aws/grant-policy';
import { IamGranter } from '../../src/aws/iam-granter';
import type { Partition } from '../../src/core/partition';
import type { AwsPrincipal, JitRequest, Node } from '../../src/core/model';
import { formatRequestId } from '../../src/core/request-id';
import type { OpenedStore } from '../../src/store/open-store';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';
import { FakeSessions, inMemoryStore, MOTO_ACCOUNT, motoClients, setupIam, simulate, uniqueName } from './simulate-env';

// What the written policies allow, according to an IAM policy simulator: the grant is read back from moto exactly as
// IAM stores it and evaluated together with the requesters' base policy.

const HOUR = 3_600_000;
const EXPIRES = FIXTURE_NOW + 2 * HOUR; // 2025-01-15T11:00:00Z
const BEFORE = '2025-01-15T10:59:59Z';
const AFTER = '2025-01-15T11:00:01Z';
const A = MOTO_ACCOUNT;

let opened: OpenedStore;
let sequence = 0;

beforeAll(async () => {
  opened = await inMemoryStore();
});
afterAll(async () => {
  await opened.close();
});

interface World {
  partition: Partition;
  region: string;
  clients: AwsClients;
  iam: IAMClient;
  granter: IamGranter;
}

function world(region: string): World {
  const clients = motoClients(region);
  const clock = new ManualClock(FIXTURE_NOW);
  return {
    partition: region.startsWith('cn-') ? 'aws-cn' : 'aws',
    region,
    clients,
    iam: setupIam(region),
    granter: new IamGranter({ clients, store: opened.store, sessions: new FakeSessions(), owner: 'sim', clock }),
  };
}

function requestFor(principal: AwsPrincipal, target: Node): JitRequest {
  const base = makeRequest();
  const n = (process.pid * 65_537 + ++sequence * 7_919) >>> 0;
  const id = formatRequestId(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
  return { ...base, id, status: 'approved', requester: { ...base.requester, principal }, target };
}

const node = (w: World, id: string): Node => ({ id, account: A, region: w.region, name: id, tags: {} });
const instanceArn = (w: World, id: string) => `arn:${w.partition}:ec2:${w.region}:${A}:instance/${id}`;
const documentArn = (w: World, name: string) => `arn:${w.partition}:ssm:${w.region}:${A}:document/${name}`;

function allArns(document: unknown): string[] {
  return JSON.stringify(document).match(/arn:[^"]*/g) ?? [];
}

describe.each(['cn-north-1', 'us-east-1'])('policies written in %s', (region) => {
  let w: World;
  beforeAll(() => {
    w = world(region);
  });
  afterAll(() => {
    w.clients.destroy();
    w.iam.destroy();
  });

  test('an IAM user may start a session on that node only, and only until the expiry', async () => {
    const name = uniqueName('dana');
    await w.iam.send(new CreateUserCommand({ UserName: name }));
    const principal: AwsPrincipal = { kind: 'iam-user', arn: `arn:${w.partition}:iam::${A}:user/${name}` };
    await w.granter.grant(requestFor(principal, node(w, 'i-0123456789abcdef0')), FIXTURE_NOW, EXPIRES);

    const out = await w.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: GRANT_POLICY_NAME }));
    const grant = parsePolicyDocument(out.PolicyDocument!);
    for (const arn of allArns(grant)) expect(arn.startsWith(`arn:${w.partition}:`)).toBe(true);
    const policies = [
      { name: GRANT_POLICY_NAME, policy: grant },
      { name: 'base', policy: requesterBasePolicy(w.partition) },
    ];
    const caller = { principal: principal.arn, userId: 'AIDAEXAMPLEUSERID0001', account: A };

    const on = (resource: string, at: string) => simulate(policies, { ...caller, resource, at });
    expect(await on(instanceArn(w, 'i-0123456789abcdef0'), BEFORE)).toBe('Allowed');
    expect(await on(instanceArn(w, 'i-0123456789abcdef0'), AFTER)).toBe('ImplicitlyDenied');
    expect(await on(instanceArn(w, 'i-0fedcba9876543210'), BEFORE)).toBe('ImplicitlyDenied');
    // The session document is allowed by the base policy, at any time; the grant alone does not allow it.
    expect(await on(documentArn(w, 'SSM-SessionManagerRunShell'), AFTER)).toBe('Allowed');
    expect(
      await simulate([{ name: GRANT_POLICY_NAME, policy: grant }], {
        ...caller,
        resource: documentArn(w, 'SSM-SessionManagerRunShell'),
        at: BEFORE,
      }),
    ).toBe('ImplicitlyDenied');
  });

  test('on a shared role, only the person the grant is for may use it', async () => {
    const roleName = uniqueName('engineers');
    const { Role } = await w.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:${w.partition}:iam::${A}:root` }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    const principal: AwsPrincipal = { kind: 'iam-role', arn: Role!.Arn!, sessionName: 'alice@example.com' };
    await w.granter.grant(requestFor(principal, node(w, 'i-0123456789abcdef0')), FIXTURE_NOW, EXPIRES);
    const out = await w.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: GRANT_POLICY_NAME }));
    const policies = [{ name: GRANT_POLICY_NAME, policy: parsePolicyDocument(out.PolicyDocument!) }];
    const as = (who: string) => ({
      principal: `arn:${w.partition}:sts::${A}:assumed-role/${roleName}/${who}`,
      userId: `${Role!.RoleId}:${who}`,
      account: A,
    });

    const target = instanceArn(w, 'i-0123456789abcdef0');
    expect(await simulate(policies, { ...as('alice@example.com'), resource: target, at: BEFORE })).toBe('Allowed');
    expect(await simulate(policies, { ...as('bob@example.com'), resource: target, at: BEFORE })).toBe(
      'ImplicitlyDenied',
    );
    expect(await simulate(policies, { ...as('alice@example.com'), resource: target, at: AFTER })).toBe(
      'ImplicitlyDenied',
    );
  });

  test('a hybrid node gets the managed-instance ARN form', async () => {
    const name = uniqueName('dana');
    await w.iam.send(new CreateUserCommand({ UserName: name }));
    const principal: AwsPrincipal = { kind: 'iam-user', arn: `arn:${w.partition}:iam::${A}:user/${name}` };
    await w.granter.grant(requestFor(principal, node(w, 'mi-0123456789abcdef0')), FIXTURE_NOW, EXPIRES);
    const out = await w.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: GRANT_POLICY_NAME }));
    const policies = [{ name: GRANT_POLICY_NAME, policy: parsePolicyDocument(out.PolicyDocument!) }];
    const caller = { principal: principal.arn, userId: 'AIDAEXAMPLEUSERID0002', account: A };
    const managed = `arn:${w.partition}:ssm:${w.region}:${A}:managed-instance/mi-0123456789abcdef0`;
    expect(await simulate(policies, { ...caller, resource: managed, at: BEFORE })).toBe('Allowed');
    expect(await simulate(policies, { ...caller, resource: managed, at: AFTER })).toBe('ImplicitlyDenied');
    expect(await simulate(policies, { ...caller, resource: instanceArn(w, 'mi-0123456789abcdef0'), at: BEFORE })).toBe(
      'ImplicitlyDenied',
    );
  });

  test('an Identity Center grant lets only that user of the permission set in', async () => {
    const policyName = uniqueName('jit-ps');
    const policyArn = `arn:${w.partition}:iam::${A}:policy/${policyName}`;
    const principal: AwsPrincipal = {
      kind: 'sso-permission-set',
      arn: `arn:${w.partition}:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef`,
      sessionName: 'alice@example.com',
      policyName,
    };
    const request = requestFor(principal, node(w, 'i-0123456789abcdef0'));
    await w.granter.grant(request, FIXTURE_NOW, EXPIRES).catch(() => undefined); // creates the policy
    const roleName = uniqueName('AWSReservedSSO_Ops');
    const { Role } = await w.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        Path: '/aws-reserved/sso.amazonaws.com/',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: `arn:${w.partition}:iam::${A}:saml-provider/AWSSSO` },
              Action: 'sts:AssumeRoleWithSAML',
            },
          ],
        }),
      }),
    );
    await w.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    await w.granter.grant(request, FIXTURE_NOW, EXPIRES);

    const { Policy } = await w.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const version = await w.iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: Policy!.DefaultVersionId! }),
    );
    const policies = [{ name: policyName, policy: parsePolicyDocument(version.PolicyVersion!.Document!) }];
    const as = (who: string) => ({
      principal: `arn:${w.partition}:sts::${A}:assumed-role/${roleName}/${who}`,
      userId: `${Role!.RoleId}:${who}`,
      account: A,
    });
    const target = instanceArn(w, 'i-0123456789abcdef0');
    expect(await simulate(policies, { ...as('alice@example.com'), resource: target, at: BEFORE })).toBe('Allowed');
    expect(await simulate(policies, { ...as('bob@example.com'), resource: target, at: BEFORE })).toBe(
      'ImplicitlyDenied',
    );
    expect(await simulate(policies, { ...as('alice@example.com'), resource: target, at: AFTER })).toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('the requesters base policy', () => {
  const base = [{ name: 'base', policy: requesterBasePolicy('aws-cn') }];
  const alice = {
    principal: `arn:aws-cn:iam::${A}:user/alice`,
    userId: 'AIDAALICE000000000001',
    account: A,
    at: BEFORE,
  };

  test('allows no node at all', async () => {
    expect(
      await simulate(base, { ...alice, resource: `arn:aws-cn:ec2:cn-north-1:${A}:instance/i-0123456789abcdef0` }),
    ).toBe('ImplicitlyDenied');
    expect(
      await simulate(base, {
        ...alice,
        resource: `arn:aws-cn:ssm:cn-north-1:${A}:managed-instance/mi-0123456789abcdef0`,
      }),
    ).toBe('ImplicitlyDenied');
  });

  test('allows the session documents, including AWS-owned ones', async () => {
    for (const doc of ['SSM-SessionManagerRunShell', 'AWS-StartSSHSession', 'AWS-StartPortForwardingSession']) {
      expect(await simulate(base, { ...alice, resource: `arn:aws-cn:ssm:cn-northwest-1:${A}:document/${doc}` })).toBe(
        'Allowed',
      );
    }
    expect(
      await simulate(base, { ...alice, resource: `arn:aws-cn:ssm:cn-north-1:${A}:document/AWS-RunShellScript` }),
    ).toBe('ImplicitlyDenied');
  });

  test('lets people terminate and resume only their own sessions', async () => {
    const session = `arn:aws-cn:ssm:cn-north-1:${A}:session/alice-0123456789abcdef0`;
    for (const action of ['ssm:TerminateSession', 'ssm:ResumeSession']) {
      const own = { 'ssm:resourceTag/aws:ssmmessages:session-id': alice.userId };
      const others = { 'ssm:resourceTag/aws:ssmmessages:session-id': 'AIDABOB00000000000001' };
      expect(await simulate(base, { ...alice, action, resource: session, context: own })).toBe('Allowed');
      expect(await simulate(base, { ...alice, action, resource: session, context: others })).toBe('ImplicitlyDenied');
    }
  });
});
