import { CreateUserCommand, GetUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import pino from 'pino';
import { AwsClients } from '../../src/aws/clients';
import { IamGranter } from '../../src/aws/iam-granter';
import type { JitRequest } from '../../src/core/model';
import { summarizeRequest } from '../../src/services/request-summary';
import type { OpenedStore } from '../../src/store/open-store';
import {
  FAKE_CREDENTIALS,
  FakeSessions,
  inMemoryStore,
  MOTO_ACCOUNT,
  motoEndpoint,
  setupIam,
  uniqueName,
} from '../aws/simulate-env';
import { FIXTURE_NOW } from '../support/fixtures';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';
import { ThrottlingIam } from '../support/throttling-iam';

// What people are told while IAM throttles: the real service, outbox and IamGranter (real AWS SDK) against moto
// behind a proxy that answers chosen IAM actions with Throttling. The clock is manual, so every retry is driven
// explicitly to its scheduled time.

const REGION = 'cn-north-1';
/** No Env tag: only the one-level "default" policy (ops-approvers) covers it. */
const NODE = 'i-0b0b0b0b0b0b0b0b1';

let proxy: ThrottlingIam;
let iam: IAMClient;
let opened: OpenedStore;
let clients: AwsClients;
let sessions: FakeSessions;
let h: Harness;
let userName: string;
let logLines: { level: number; msg: string; requestId?: string; event?: string; outcome?: string; reason?: unknown }[];

beforeAll(async () => {
  proxy = await ThrottlingIam.start(motoEndpoint());
  iam = setupIam(REGION);
});

afterAll(async () => {
  iam.destroy();
  await proxy.close();
});

beforeEach(async () => {
  proxy.throttle();
  userName = uniqueName('dana');
  await iam.send(new CreateUserCommand({ UserName: userName }));
  const config = testConfig((c) => {
    c.identities = [
      {
        match: { platform: 'console', userId: 'dana' },
        principal: { kind: 'iam-user', arn: `arn:aws-cn:iam::${MOTO_ACCOUNT}:user/${userName}` },
        groups: ['developers'],
      },
    ];
  });
  opened = await inMemoryStore();
  const clock = new ManualClock(FIXTURE_NOW);
  // One SDK attempt per call: the outbox's own retries are what this test is about.
  clients = new AwsClients({
    accounts: [{ id: MOTO_ACCOUNT }],
    region: REGION,
    credentials: FAKE_CREDENTIALS,
    endpoints: { iam: proxy.url },
    maxAttempts: 1,
  });
  sessions = new FakeSessions();
  const granter = new IamGranter({ clients, store: opened.store, sessions, owner: 'iam-retries', clock });
  logLines = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  h = await startHarness({ config, store: opened.store, granter, clock, logger });
});

afterEach(async () => {
  await h.close();
  clients.destroy();
  await opened.close();
});

async function stored(id: string): Promise<JitRequest> {
  return (await h.store.getRequest(id))!;
}

/** Moves the clock to the request's next retry and lets the outbox run it. */
async function nextRetry(id: string): Promise<JitRequest> {
  const retryAt = (await stored(id)).iamRetry?.retryAt;
  if (retryAt === undefined) throw new Error(`${id} is not waiting for a retry`);
  h.clock.set(retryAt);
  await h.settle();
  return stored(id);
}

async function statementIds(): Promise<string[]> {
  try {
    const out = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'jitbot-grants' }));
    return JSON.parse(decodeURIComponent(out.PolicyDocument!)).Statement.map((s: { Sid: string }) => s.Sid);
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException' || (error as Error).name === 'NoSuchEntity') return [];
    throw error;
  }
}

const threadText = () => h.chat.threads.map((t) => t.text).join('\n');
const dmsTo = (userId: string) => h.chat.dms.filter((d) => d.user.userId === userId).map((d) => d.text);

async function approvedRequest(): Promise<string> {
  const id = h.idIn(await h.command('dana', `/jit ${NODE} throttled deploy`));
  await h.settle();
  expect((await h.click('alice', id, 'approve')).kind).toBe('info');
  await h.settle();
  return id;
}

test('a throttled grant is shown on the card and in the thread, told to the requester and approver after 2 minutes, then goes live', async () => {
  proxy.throttle('PutUserPolicy');
  const id = await approvedRequest();

  expect(await stored(id)).toMatchObject({
    status: 'approved',
    iamRetry: { failures: 1, problem: { code: 'throttled' } },
  });
  expect(h.chat.latestCard(id)!.statusText).toBe(
    '⏳ Approved — granting access: IAM throttled, retry 2 of 12 at 2025-01-15 09:00',
  );
  expect(threadText()).toContain('Granting access is delayed: IAM throttled. Retry 2 of 12 at 2025-01-15 09:00.');
  expect(dmsTo('dana')).toEqual([]);

  // Retries at 5, 15, 35, 75 s keep failing; the one at the two-minute mark tells the people involved.
  let request = await stored(id);
  for (let i = 0; i < 10 && request.iamRetry?.slowToldAt === undefined; i++) request = await nextRetry(id);
  expect(request.iamRetry).toMatchObject({ failures: 6, slowToldAt: FIXTURE_NOW + 2 * 60_000 });
  expect(proxy.throttledCalls('PutUserPolicy')).toBe(6);
  const slow = expect.stringContaining(
    `${id}: access for Dana to batch (${NODE}) is approved, but IAM has not accepted the grant for 2m (IAM throttled)`,
  );
  expect(dmsTo('dana')).toEqual([slow]);
  expect(dmsTo('alice')).toEqual([slow]);
  expect(h.chat.latestCard(id)!.statusText).toBe(
    '⏳ Approved — granting access: IAM throttled, retry 7 of 12 at 2025-01-15 09:04',
  );

  // Told once: the next failure only redraws the card.
  request = await nextRetry(id);
  expect(request.iamRetry?.failures).toBe(7);
  expect(dmsTo('dana')).toHaveLength(1);

  proxy.throttle();
  request = await nextRetry(id);
  expect(request.status).toBe('active');
  expect(request.iamRetry).toBeUndefined();
  expect(await statementIds()).toEqual([id.replace('-', '')]);
  expect(h.chat.latestCard(id)!.statusText).toMatch(/^🟢 Access active until/);
  expect(dmsTo('dana')[1]).toContain(`Your request ${id} for batch (${NODE}) was approved.`);
  expect(logLines).toContainEqual(
    expect.objectContaining({ level: 30, event: 'grant', requestId: id, outcome: 'active' }),
  );
});

test('a revoke under throttling is `revoking` (status, card, Requests tab) and never `revoked` while the statement exists', async () => {
  const id = await approvedRequest();
  expect((await stored(id)).status).toBe('active');
  const sid = id.replace('-', '');
  expect(await statementIds()).toEqual([sid]);

  proxy.throttle('PutUserPolicy', 'DeleteUserPolicy');
  expect(await h.command('carol', `/jit revoke ${id}`)).toEqual({
    kind: 'info',
    text: `Revoking ${id}; live sessions on batch (${NODE}) will be ended.`,
  });
  await h.settle();

  const checkHonest = async () => {
    const request = await stored(id);
    expect(request.status).toBe('revoking');
    expect(await statementIds()).toEqual([sid]);
    expect(sessions.calls).toEqual([]);
    expect((await h.command('dana', `/jit status ${id}`)).text).toContain(' · revoking · ');
    expect(summarizeRequest(request).status).toBe('revoking');
    const card = h.chat.latestCard(id)!;
    expect(card.status).toBe('revoking');
    expect(card.statusText).toMatch(/^⏳ Revoking access \(asked by Carol at 2025-01-15 09:00\)…$/);
    expect(card.notices).toContain(
      'Until it is removed, the IAM condition (DateLessThan) still ends this access at 2025-01-15 10:00.',
    );
    return request;
  };

  let request = await checkHonest();
  expect(request.iamRetry).toMatchObject({ change: 'revoke', failures: 1 });
  expect(threadText()).toContain('Removing access from IAM is delayed: IAM throttled. Retry 2 of 12');
  expect(threadText()).not.toMatch(/revoked access/);

  // Twelve failures: the admins are alerted (direct message, thread, error log), and it keeps trying.
  for (let i = 0; i < 11; i++) {
    request = await nextRetry(id);
    await checkHonest();
  }
  expect(request.iamRetry).toMatchObject({ failures: 12 });
  expect(request.iamRetry?.alertedAt).toBeDefined();
  const alert = expect.stringMatching(
    new RegExp(
      `^🚨 ${id}: jitbot cannot remove Dana's access to batch \\(${NODE}\\) from IAM \\(IAM throttled; 12 tries`,
    ),
  );
  expect(dmsTo('carol')).toContainEqual(alert);
  expect(threadText()).toMatch(/🚨/);
  expect(logLines).toContainEqual(
    expect.objectContaining({ level: 50, requestId: id, msg: expect.stringContaining('cannot remove') }),
  );
  expect(h.chat.latestCard(id)!.notices[0]).toMatch(
    /^IAM keeps failing the change \(IAM throttled, 12 tries\); admins were alerted\. Next try at /,
  );

  request = await nextRetry(id);
  await checkHonest();
  expect(dmsTo('carol').filter((text) => text.startsWith('🚨'))).toHaveLength(1);

  // IAM recovers: only now is it revoked and are the sessions ended.
  proxy.throttle();
  request = await nextRetry(id);
  expect(request).toMatchObject({ status: 'revoked', endedBy: { userId: 'carol' } });
  expect(await statementIds()).toEqual([]);
  expect(sessions.calls).toEqual([id]);
  expect(threadText()).toContain(`Carol revoked access to batch (${NODE}); 1 live session terminated.`);
  const card = h.chat.latestCard(id)!;
  expect(card.status).toBe('revoked');
  expect(card.fields.map((f) => f.label)).not.toContain('Expires');
  expect(logLines).toContainEqual(expect.objectContaining({ event: 'revoke', requestId: id, outcome: 'revoked' }));
});

test('an expiry under throttling says the IAM condition ended the access, then ends once IAM accepts', async () => {
  const id = await approvedRequest();
  const { grant } = await stored(id);
  proxy.throttle('DeleteUserPolicy', 'PutUserPolicy');
  h.clock.set(grant!.expiresAt);
  expect(await h.scheduler.sweep()).toBe(1);
  await h.settle();

  let request = await stored(id);
  expect(request.status).toBe('revoking');
  const card = h.chat.latestCard(id)!;
  expect(card.statusText).toBe('⏳ Access expired at 2025-01-15 10:00; removing it from IAM…');
  expect(card.notices).toContain(
    'The IAM condition (DateLessThan) already ended this access at 2025-01-15 10:00; only the statement is left to remove.',
  );
  expect(threadText()).toContain(
    'The IAM condition (DateLessThan) ended access at 2025-01-15 10:00; removing the statement is delayed: IAM throttled.',
  );

  proxy.throttle();
  request = await nextRetry(id);
  expect(request.status).toBe('ended');
  expect(await statementIds()).toEqual([]);
  expect(h.chat.latestCard(id)!.fields).toContainEqual({ label: 'Ended', value: '2025-01-15 10:00' });
});

test('revoking again while a retry is waiting tries at once', async () => {
  const id = await approvedRequest();
  proxy.throttle('DeleteUserPolicy', 'PutUserPolicy');
  await h.command('dana', `/jit revoke ${id}`);
  await h.settle();
  expect((await stored(id)).iamRetry?.failures).toBe(1);
  proxy.throttle();
  expect(await h.command('alice', `/jit revoke ${id}`)).toEqual({
    kind: 'info',
    text: `Trying again now to remove ${id} from IAM.`,
  });
  await h.settle();
  expect((await stored(id)).status).toBe('revoked');
  expect(await statementIds()).toEqual([]);
});
