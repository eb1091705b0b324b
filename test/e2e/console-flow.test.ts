import pino from 'pino';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { ADAPTERS } from '../../adapters';
import { DEMO_CONFIG_YAML } from '../../adapters/console/demo';
import { parseConfigText } from '../../src/config/load';
import { verifyAuditChain } from '../../src/core/audit-chain';

// The whole product as a newcomer meets it: `npm start` on the demo config, driven over HTTP exactly as
// the console page drives it. Request → card with the Name tag → two levels of approval in two private
// channels → dry-run grant with the policy JSON in the thread → a repeated click refused.

let running: RunningJitbot;
let deliveries = 0;

beforeAll(async () => {
  const config = parseConfigText(DEMO_CONFIG_YAML, 'demo', { env: {}, adapters: ADAPTERS });
  config.store = { kind: 'embedded', inMemory: true };
  running = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    port: 0,
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
});

afterAll(async () => {
  await running.stop();
});

async function call(path: string, body?: unknown): Promise<any> {
  const response = await fetch(running.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} → ${response.status}: ${text}`);
  return JSON.parse(text);
}

const delivery = () => `test-delivery-${++deliveries}`;

async function command(user: string, text: string, channel = 'requests') {
  const result = await call('/console/api/command', { user, channel, text, deliveryId: delivery() });
  await running.outbox.idle();
  return result.reply ?? result;
}

async function click(
  user: string,
  channel: string,
  messageId: string,
  requestId: string,
  action: string,
  comment?: string,
) {
  const result = await call('/console/api/action', {
    user,
    channel,
    messageId,
    requestId,
    action,
    comment,
    deliveryId: delivery(),
  });
  await running.outbox.idle();
  return result.reply ?? result;
}

async function channel(user: string, id: string) {
  const state = await call(`/console/api/state?user=${user}`);
  return state.channels.find((c: { id: string }) => c.id === id);
}

async function cardMessage(user: string, channelId: string, requestId: string) {
  const view = await channel(user, channelId);
  return view.messages.find((m: any) => m.card?.requestId === requestId);
}

test('request → two levels of approval → dry-run grant → second click refused', async () => {
  const submitted = await command('dana', '/jit web-1 fix nginx');
  expect(submitted.kind).toBe('info');
  const requestId = /JIT-[0-9A-Z]{5}/.exec(submitted.text)![0];
  expect(submitted.text).toContain('Level 1 of 2');

  const opsCard = await cardMessage('alice', 'ops-approvals', requestId);
  expect(opsCard.card.title).toContain('web-1');
  expect(opsCard.card.fields).toEqual(
    expect.arrayContaining([{ label: 'Node', value: 'web-1 (i-0123456789abcdef0)' }]),
  );
  expect(opsCard.card.reason).toBe('fix nginx');
  expect(opsCard.card.notices.join(' ')).toMatch(/dry run/i);
  expect(opsCard.card.actions.map((a: { id: string }) => a.id)).toEqual(['approve', 'reject']);

  // Level 2's approver cannot jump the queue.
  const early = await click('bob', 'ops-approvals', opsCard.id, requestId, 'approve');
  expect(early.kind).toBe('error');

  const first = await click('alice', 'ops-approvals', opsCard.id, requestId, 'approve', 'checked the change ticket');
  expect(first.kind).toBe('info');
  const securityCard = await cardMessage('bob', 'security-approvals', requestId);
  expect(securityCard.card.progress).toContain('Level 2 of 2');
  expect(securityCard.card.actions.map((a: { id: string }) => a.id)).toEqual(['approve', 'reject']);
  const levelOneCard = await cardMessage('alice', 'ops-approvals', requestId);
  expect(levelOneCard.card.statusText).toContain('Level 2 of 2');
  expect(levelOneCard.card.actions).toEqual([]);

  const second = await click('bob', 'security-approvals', securityCard.id, requestId, 'approve', 'ok for 1h');
  expect(second.kind).toBe('info');

  const finalCard = await cardMessage('bob', 'security-approvals', requestId);
  expect(finalCard.card.status).toBe('active');
  expect(finalCard.card.actions.map((a: { id: string }) => a.id)).toEqual(['revoke']);
  const thread = finalCard.thread.map((r: { text: string }) => r.text).join('\n');
  expect(thread).toContain('ok for 1h');
  expect(thread).toContain('aws ssm start-session --target i-0123456789abcdef0 --region cn-north-1');
  expect(thread).toContain('"ssm:StartSession"');
  expect(thread).toContain('arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0123456789abcdef0');
  expect(thread).toMatch(/dry run/i);

  const again = await click('bob', 'security-approvals', securityCard.id, requestId, 'approve');
  expect(again).toMatchObject({
    kind: 'error',
    text: expect.stringContaining(`${requestId} was already approved by Bob at`),
  });
  const stale = await click('alice', 'ops-approvals', opsCard.id, requestId, 'reject');
  expect(stale.kind).toBe('error');
  expect(stale.text).toContain('Bob');

  const danaState = await call('/console/api/state?user=dana');
  const dms = danaState.dms.flatMap((d: any) => d.messages.map((m: any) => m.text)).join('\n');
  expect(dms).toContain(requestId);
  expect(dms).toContain('aws ssm start-session');

  const requests = await call('/console/api/requests');
  const list = requests.items;
  expect(list.find((r: { id: string }) => r.id === requestId)).toMatchObject({ status: 'active', node: 'web-1' });

  const anchors = await running.store.getAuditAnchors();
  const events = await running.store.listAudit();
  expect(events.filter((e) => e.requestId === requestId).map((e) => e.action)).toEqual(
    expect.arrayContaining(['request.created', 'request.level_approved', 'request.approved', 'grant.created']),
  );
  expect(verifyAuditChain(events, anchors)).toMatchObject({ ok: true });
});

test('mistakes get a clear message with the usage line, and nothing is created', async () => {
  const before = (await running.store.listRecentRequests(100)).length;
  const reply = await command('dana', '/jit web-1');
  expect(reply.kind).toBe('error');
  expect(reply.text).toContain('Usage: /jit');
  const unknown = await command('dana', '/jit no-such-node look around');
  expect(unknown).toMatchObject({ kind: 'error', text: expect.stringContaining('no-such-node') });
  const denied = await command('dana', '/jit db-1 quick query');
  expect(denied).toMatchObject({ kind: 'error', text: expect.stringContaining('no-database-shell') });
  const ambiguous = await command('dana', '/jit batch rerun job');
  expect(ambiguous.text).toContain('i-0b0b0b0b0b0b0b0b1');
  expect(ambiguous.text).toContain('i-0b0b0b0b0b0b0b0b2');
  expect((await running.store.listRecentRequests(100)).length).toBe(before);
});

test('auto-approved dev request is granted without people', async () => {
  const reply = await command('dana', '/jit dev-box 调查内存泄漏 for 30m');
  expect(reply).toMatchObject({ kind: 'info', text: expect.stringContaining('dev-self-service') });
  const requestId = /JIT-[0-9A-Z]{5}/.exec(reply.text)![0];
  const stored = await running.store.getRequest(requestId);
  expect(stored).toMatchObject({ status: 'active', reason: '调查内存泄漏', durationMs: 30 * 60_000 });
});
