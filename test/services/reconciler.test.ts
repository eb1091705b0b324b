import { CreateUserCommand, GetUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { AwsClients } from '../../src/aws/clients';
import { GRANT_POLICY_NAME, parsePolicyDocument } from '../../src/aws/grant-policy';
import { IamGranter } from '../../src/aws/iam-granter';
import type { AwsPrincipal, JitRequest, RequestStatus } from '../../src/core/model';
import { formatRequestId } from '../../src/core/request-id';
import { Reconciler } from '../../src/services/reconciler';
import type { OpenedStore } from '../../src/store/open-store';
import { FakeSessions, inMemoryStore, MOTO_ACCOUNT, motoClients, setupIam, uniqueName } from '../aws/simulate-env';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';

// Crash repair: IAM and the store disagree after a crash between the IAM write and the store update (or after
// someone edits IAM by hand). The reconciler runs against moto with the real granter and a real in-memory store.

const HOUR = 3_600_000;
const REGION = 'cn-north-1';

let opened: OpenedStore;
let clients: AwsClients;
let iam: IAMClient;
let clock: ManualClock;
let sessions: FakeSessions;
let granter: IamGranter;
let sequence = 0;

beforeAll(async () => {
  clients = motoClients(REGION);
  iam = setupIam(REGION);
});
afterAll(() => {
  clients.destroy();
  iam.destroy();
});
beforeEach(async () => {
  // A fresh store per test: the reconciler reads every active request in it.
  opened = await inMemoryStore();
  clock = new ManualClock(FIXTURE_NOW);
  sessions = new FakeSessions(1);
  granter = new IamGranter({ clients, store: opened.store, sessions, owner: 'replica-a', clock });
});
afterEach(async () => {
  await opened.close();
});

function reconciler(principals: AwsPrincipal[] = []): Reconciler {
  return new Reconciler({
    granter,
    store: opened.store,
    clock,
    owner: 'replica-a',
    principals,
    accounts: [MOTO_ACCOUNT],
  });
}

async function newUser(): Promise<{ name: string; principal: AwsPrincipal }> {
  const name = uniqueName('erin');
  await iam.send(new CreateUserCommand({ UserName: name }));
  return { name, principal: { kind: 'iam-user', arn: `arn:aws-cn:iam::${MOTO_ACCOUNT}:user/${name}` } };
}

function request(
  principal: AwsPrincipal,
  status: RequestStatus,
  nodeId: string,
  extra: Partial<JitRequest> = {},
): JitRequest {
  const base = makeRequest();
  const n = (process.pid * 31 + ++sequence * 1_000_003) >>> 0;
  return {
    ...base,
    id: formatRequestId(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])),
    status,
    requester: { ...base.requester, principal },
    target: { ...base.target, id: nodeId, account: MOTO_ACCOUNT },
    ...extra,
  };
}

const activeGrant = (r: JitRequest, expiresAt = FIXTURE_NOW + 2 * HOUR) => ({
  grantId: r.id,
  startsAt: FIXTURE_NOW,
  expiresAt,
  dryRun: false,
  summary: 'granted',
});

async function statements(userName: string): Promise<{ Sid: string; Condition: any }[]> {
  try {
    const out = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: GRANT_POLICY_NAME }));
    return (parsePolicyDocument(out.PolicyDocument!) as { Statement: { Sid: string; Condition: any }[] }).Statement;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return [];
    throw error;
  }
}

const sidOf = (r: JitRequest) => r.id.replace('-', '');

describe('Reconciler', () => {
  test('removes statements whose request is over or unknown, and ends sessions where the request is known', async () => {
    const { name, principal } = await newUser();
    // The grant was written, then the request failed (e.g. the store update after the IAM write never happened
    // and the retries gave up), and one statement belongs to no request at all.
    const failed = request(principal, 'failed', 'i-0aaaaaaaaaaaaaaa1');
    const unknown = request(principal, 'approved', 'i-0bbbbbbbbbbbbbbb2');
    await opened.store.createRequest(failed);
    await granter.grant(failed, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    await granter.grant(unknown, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    expect(await statements(name)).toHaveLength(2);

    const report = await reconciler([principal]).run();

    expect(report).toMatchObject({ ran: true, statements: 2, restored: [], failures: [] });
    expect(report.removed.sort()).toEqual([failed.id, unknown.id].sort());
    expect(await statements(name)).toEqual([]);
    expect(sessions.calls).toEqual([failed.id]);
    const audit = await opened.store.listAudit();
    expect(
      audit
        .filter((e) => e.action === 'reconcile.removed')
        .map((e) => [e.requestId, e.detail?.requestStatus])
        .sort(),
    ).toEqual(
      [
        [failed.id, 'failed'],
        [unknown.id, 'missing'],
      ].sort(),
    );
  });

  test('restores the statement of an active request whose IAM write was lost', async () => {
    const { name, principal } = await newUser();
    const active = request(principal, 'active', 'i-0ccccccccccccccc3');
    await opened.store.createRequest({ ...active, grant: activeGrant(active) });

    const report = await reconciler().run();

    expect(report.restored).toEqual([active.id]);
    const written = await statements(name);
    expect(written.map((s) => s.Sid)).toEqual([sidOf(active)]);
    expect(written[0]!.Condition.DateLessThan['aws:CurrentTime']).toBe('2025-01-15T11:00:00Z');
    const audit = await opened.store.listAudit();
    expect(audit.find((e) => e.action === 'reconcile.restored')).toMatchObject({
      requestId: active.id,
      actor: 'jitbot',
      detail: { reason: 'missing' },
    });
  });

  test('pages through every active request, however many pages they take', async () => {
    const { name, principal } = await newUser();
    const active = ['i-0aaaaaaaaaaaaaa01', 'i-0aaaaaaaaaaaaaa02', 'i-0aaaaaaaaaaaaaa03'].map((node) =>
      request(principal, 'active', node),
    );
    for (const r of active) await opened.store.createRequest({ ...r, grant: activeGrant(r) });

    const report = await new Reconciler({
      granter,
      store: opened.store,
      clock,
      owner: 'replica-a',
      accounts: [MOTO_ACCOUNT],
      batchSize: 2,
    }).run();

    expect(report.restored.sort()).toEqual(active.map((r) => r.id).sort());
    expect((await statements(name)).map((s) => s.Sid).sort()).toEqual(active.map(sidOf).sort());
  });

  test('rewrites a statement that differs from the active grant', async () => {
    const { name, principal } = await newUser();
    const active = request(principal, 'active', 'i-0ddddddddddddddd4');
    await opened.store.createRequest({ ...active, grant: activeGrant(active, FIXTURE_NOW + 2 * HOUR) });
    await granter.grant(active, FIXTURE_NOW, FIXTURE_NOW + 9 * HOUR); // someone stretched it by hand

    const report = await reconciler().run();

    expect(report.restored).toEqual([active.id]);
    expect((await statements(name))[0]!.Condition.DateLessThan['aws:CurrentTime']).toBe('2025-01-15T11:00:00Z');
  });

  test('leaves alone grants in flight, grants being revoked, and expired ones; a second run changes nothing', async () => {
    const { name, principal } = await newUser();
    const inFlight = request(principal, 'approved', 'i-0eeeeeeeeeeeeeee5');
    const beingRevoked = request(principal, 'active', 'i-0fffffffffffffff6', {
      outbox: [{ id: 'e1', kind: 'revoke' }],
    });
    const expired = request(principal, 'active', 'i-0111111111111111a');
    const healthy = request(principal, 'active', 'i-0222222222222222b');
    await opened.store.createRequest(inFlight);
    await opened.store.createRequest({ ...beingRevoked, grant: activeGrant(beingRevoked) });
    await opened.store.createRequest({ ...expired, grant: activeGrant(expired, FIXTURE_NOW - 1) });
    await opened.store.createRequest({ ...healthy, grant: activeGrant(healthy) });
    await granter.grant(inFlight, FIXTURE_NOW, FIXTURE_NOW + HOUR);
    await granter.grant(healthy, FIXTURE_NOW, FIXTURE_NOW + 2 * HOUR);

    const first = await reconciler([principal]).run();
    const second = await reconciler([principal]).run();

    for (const report of [first, second])
      expect(report).toMatchObject({ ran: true, statements: 2, removed: [], restored: [], failures: [] });
    expect((await statements(name)).map((s) => s.Sid).sort()).toEqual([sidOf(inFlight), sidOf(healthy)].sort());
    expect((await opened.store.listAudit()).filter((e) => e.action.startsWith('reconcile.'))).toEqual([]);
  });

  test('one replica at a time', async () => {
    await opened.store.acquireLease('reconciler', 'replica-b', clock.now(), 60_000);
    expect(await reconciler().run()).toMatchObject({ ran: false });
  });
});
