import { AwsClients } from '../../src/aws/clients';
import { SsmSessionTerminator } from '../../src/aws/session-terminator';
import type { AwsPrincipal, JitRequest } from '../../src/core/model';
import { FakeSsm } from '../support/fake-ssm';
import { makeRequest } from '../support/fixtures';

// The real SSM client, made by AwsClients, against the local SSM fake.

const ACCOUNT = '111122223333';
const REGION = 'cn-north-1';
const NODE = 'i-0123456789abcdef0';
const OTHER_NODE = 'i-0fedcba9876543210';
const ALICE = `arn:aws-cn:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws-cn:iam::${ACCOUNT}:user/bob`;
const assumed = (role: string, session: string) => `arn:aws-cn:sts::${ACCOUNT}:assumed-role/${role}/${session}`;

let fake: FakeSsm;
let clients: AwsClients;

beforeEach(async () => {
  fake = await FakeSsm.start();
  clients = new AwsClients({
    accounts: [{ id: ACCOUNT }],
    region: REGION,
    credentials: { accessKeyId: 'AKIDTERMINATOR', secretAccessKey: 'fake' },
    endpoints: { ssm: fake.url },
  });
});

afterEach(async () => {
  clients.destroy();
  await fake.close();
});

function requestBy(principal: AwsPrincipal | undefined, target = NODE): JitRequest {
  const base = makeRequest();
  return {
    ...base,
    requester: { ...base.requester, principal },
    target: { ...base.target, id: target, account: ACCOUNT, region: REGION },
  };
}

const alice = requestBy({ kind: 'iam-user', arn: ALICE });

function describeFilters(): unknown[] {
  return fake.calls.filter((c) => c.operation === 'DescribeSessions').map((c) => c.input.Filters);
}

describe('SsmSessionTerminator', () => {
  it("ends only the requester's active sessions on the request's node", async () => {
    const connected = fake.addSession({ target: NODE, owner: ALICE });
    const disconnected = fake.addSession({ target: NODE, owner: ALICE, status: 'Disconnected' });
    const otherNode = fake.addSession({ target: OTHER_NODE, owner: ALICE });
    const bobs = fake.addSession({ target: NODE, owner: BOB });
    fake.addSession({ target: NODE, owner: ALICE, status: 'Terminated' });

    const ended = await new SsmSessionTerminator({ clients }).terminateSessions(alice);

    expect(ended).toBe(2);
    expect(fake.terminated()).toEqual([connected, disconnected]);
    expect(fake.session(otherNode)?.status).toBe('Connected');
    expect(fake.session(bobs)?.status).toBe('Connected');
    expect(describeFilters()).toEqual([
      [
        { key: 'Target', value: NODE },
        { key: 'Owner', value: ALICE },
      ],
    ]);
    expect(fake.calls[0]).toMatchObject({ region: REGION, input: { State: 'Active' } });
  });

  it('returns 0 and ends nothing when run again', async () => {
    fake.addSession({ target: NODE, owner: ALICE });
    const terminator = new SsmSessionTerminator({ clients });

    expect(await terminator.terminateSessions(alice)).toBe(1);
    expect(await terminator.terminateSessions(alice)).toBe(0);
    expect(fake.count('TerminateSession')).toBe(1);
  });

  it('leaves sessions that are already terminating alone', async () => {
    fake.addSession({ target: NODE, owner: ALICE, status: 'Terminating' });
    expect(await new SsmSessionTerminator({ clients }).terminateSessions(alice)).toBe(0);
    expect(fake.count('TerminateSession')).toBe(0);
  });

  it('follows DescribeSessions pages to the end', async () => {
    await fake.close();
    fake = await FakeSsm.start({ maxPageSize: 7 });
    clients.destroy();
    clients = new AwsClients({
      accounts: [{ id: ACCOUNT }],
      region: REGION,
      credentials: { accessKeyId: 'AKIDTERMINATOR', secretAccessKey: 'fake' },
      endpoints: { ssm: fake.url },
    });
    const ids = Array.from({ length: 20 }, () => fake.addSession({ target: NODE, owner: ALICE }));
    fake.addSession({ target: NODE, owner: BOB });

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(alice)).toBe(20);
    expect(fake.terminated().sort()).toEqual([...ids].sort());
    expect(fake.count('DescribeSessions')).toBe(3);
  });

  it('recognises a shared role by its assumed-role ARN (role path dropped) and session name', async () => {
    const role = requestBy({
      kind: 'iam-role',
      arn: `arn:aws-cn:iam::${ACCOUNT}:role/team/Ops`,
      sessionName: 'alice@example.com',
    });
    const mine = fake.addSession({ target: NODE, owner: assumed('Ops', 'alice@example.com') });
    const bobs = fake.addSession({ target: NODE, owner: assumed('Ops', 'bob@example.com') });

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(role)).toBe(1);
    expect(fake.terminated()).toEqual([mine]);
    expect(fake.session(bobs)?.status).toBe('Connected');
    expect(describeFilters()).toEqual([
      [
        { key: 'Target', value: NODE },
        { key: 'Owner', value: assumed('Ops', 'alice@example.com') },
      ],
    ]);
  });

  it('with roleIds, also recognises an owner reported as <roleId>:<sessionName>', async () => {
    const roleArn = `arn:aws-cn:iam::${ACCOUNT}:role/Ops`;
    const roleIds = jest.fn(async () => 'AROAEXAMPLEROLEID1234');
    const role = requestBy({ kind: 'iam-role', arn: roleArn, sessionName: 'alice@example.com' });
    const byArn = fake.addSession({ target: NODE, owner: assumed('Ops', 'alice@example.com') });
    const byUserId = fake.addSession({ target: NODE, owner: 'AROAEXAMPLEROLEID1234:alice@example.com' });
    fake.addSession({ target: NODE, owner: 'AROAEXAMPLEROLEID1234:bob@example.com' });

    expect(await new SsmSessionTerminator({ clients, roleIds }).terminateSessions(role)).toBe(2);
    expect(fake.terminated()).toEqual([byArn, byUserId]);
    expect(roleIds).toHaveBeenCalledWith(roleArn);
  });

  it('for Identity Center, filters by target only and keeps assumed-role sessions ending in the session name', async () => {
    const sso = requestBy({
      kind: 'sso-permission-set',
      arn: 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
      sessionName: 'alice@example.com',
      policyName: 'ssm-jit-ops',
    });
    const mine = fake.addSession({
      target: NODE,
      owner: assumed('AWSReservedSSO_Ops_0123456789abcdef', 'alice@example.com'),
    });
    const bobs = fake.addSession({
      target: NODE,
      owner: assumed('AWSReservedSSO_Ops_0123456789abcdef', 'bob@example.com'),
    });
    // An IAM user whose name happens to equal the session name is somebody else.
    const lookalike = fake.addSession({ target: NODE, owner: `arn:aws-cn:iam::${ACCOUNT}:user/alice@example.com` });
    const suffix = fake.addSession({
      target: NODE,
      owner: assumed('AWSReservedSSO_Ops_0123456789abcdef', 'malice@example.com'),
    });

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(sso)).toBe(1);
    expect(fake.terminated()).toEqual([mine]);
    for (const id of [bobs, lookalike, suffix]) expect(fake.session(id)?.status).toBe('Connected');
    expect(describeFilters()).toEqual([[{ key: 'Target', value: NODE }]]);
  });

  it('matches an IAM user with a path whether or not SSM reports the path', async () => {
    const withPath = `arn:aws-cn:iam::${ACCOUNT}:user/engineering/alice`;
    const request = requestBy({ kind: 'iam-user', arn: withPath });
    const a = fake.addSession({ target: NODE, owner: withPath });
    const b = fake.addSession({ target: NODE, owner: ALICE });
    fake.addSession({ target: NODE, owner: `arn:aws-cn:iam::${ACCOUNT}:user/engineering/bob` });

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(request)).toBe(2);
    expect(fake.terminated()).toEqual([a, b]);
  });

  it('retries throttled calls', async () => {
    const id = fake.addSession({ target: NODE, owner: ALICE });
    fake.throttle(2, 'DescribeSessions');
    fake.throttle(1, 'TerminateSession');

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(alice)).toBe(1);
    expect(fake.terminated()).toEqual([id]);
    expect(fake.count('DescribeSessions')).toBe(3);
    expect(fake.count('TerminateSession')).toBe(2);
  });

  it('ignores a session that is gone by the time it is terminated', async () => {
    fake.addSession({ target: NODE, owner: ALICE });
    const second = fake.addSession({ target: NODE, owner: ALICE });
    fake.failNext(1, 'DoesNotExistException', { operation: 'TerminateSession' });

    expect(await new SsmSessionTerminator({ clients }).terminateSessions(alice)).toBe(1);
    expect(fake.terminated()).toEqual([second]);
  });

  it('reports other failures with the node, account and region', async () => {
    fake.failNext(1, 'AccessDeniedException', { operation: 'DescribeSessions', message: 'not authorized' });
    await expect(new SsmSessionTerminator({ clients }).terminateSessions(alice)).rejects.toThrow(
      `ssm:DescribeSessions for ${NODE} in account ${ACCOUNT}, region ${REGION} failed: AccessDeniedException: not authorized`,
    );
  });

  it('does nothing for a requester without an AWS principal', async () => {
    fake.addSession({ target: NODE, owner: ALICE });
    expect(await new SsmSessionTerminator({ clients }).terminateSessions(requestBy(undefined))).toBe(0);
    expect(fake.calls).toEqual([]);
  });
});
