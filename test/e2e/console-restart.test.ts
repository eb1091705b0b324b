import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { ADAPTERS } from '../../adapters';
import { DEMO_CONFIG_YAML } from '../../adapters/console/demo';
import { parseConfigText } from '../../src/config/load';

// The console's messages survive a restart: `npm start`, a request, stop, `npm start` again on the same data
// directory, and the pending request's card is still there, with its thread, and can be approved.

let dataDir: string;
let running: RunningJitbot | undefined;
let deliveries = 0;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'jitbot-console-restart-'));
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<RunningJitbot> {
  const config = parseConfigText(DEMO_CONFIG_YAML, 'demo', { env: {}, adapters: ADAPTERS });
  config.store = { kind: 'embedded', inMemory: false, dataDir };
  running = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    port: 0,
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
  return running;
}

async function call(path: string, body?: unknown): Promise<any> {
  const response = await fetch(running!.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} → ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function send(path: string, body: Record<string, unknown>) {
  const result = await call(path, { ...body, deliveryId: `restart-delivery-${++deliveries}` });
  await running!.outbox.idle();
  return result.reply ?? result;
}

async function cardMessage(user: string, channelId: string, requestId: string) {
  const state = await call(`/console/api/state?user=${user}`);
  const channel = state.channels.find((c: { id: string }) => c.id === channelId);
  return channel.messages.find((m: any) => m.card?.requestId === requestId);
}

async function dmTexts(user: string): Promise<string[]> {
  const state = await call(`/console/api/state?user=${user}`);
  return state.dms.flatMap((d: any) => d.messages.map((m: any) => m.text));
}

test("a pending request's card, its thread and the DMs are there after a restart, and the card can be approved", async () => {
  await start();
  const submitted = await send('/console/api/command', {
    user: 'dana',
    channel: 'requests',
    text: '/jit web-1 fix nginx',
  });
  const requestId = /JIT-[0-9A-Z]{5}/.exec(submitted.text)![0];
  const opsCard = await cardMessage('alice', 'ops-approvals', requestId);
  expect(
    await send('/console/api/action', {
      user: 'alice',
      channel: 'ops-approvals',
      messageId: opsCard.id,
      requestId,
      action: 'approve',
      comment: 'ticket ok',
    }),
  ).toMatchObject({ kind: 'info' });
  const securityCard = await cardMessage('bob', 'security-approvals', requestId);
  const before = {
    ops: await cardMessage('alice', 'ops-approvals', requestId),
    security: securityCard,
    typed: (await call('/console/api/state?user=dana')).channels
      .find((c: { id: string }) => c.id === 'requests')
      .messages.map((m: any) => m.text),
    dms: await dmTexts('dana'),
  };
  expect(before.ops.thread.map((r: { text: string }) => r.text).join('\n')).toContain('ticket ok');
  await running!.stop();

  await start();
  // The same messages, under the same ids, with their threads.
  expect(await cardMessage('alice', 'ops-approvals', requestId)).toEqual(before.ops);
  expect(await cardMessage('bob', 'security-approvals', requestId)).toEqual(before.security);
  expect(
    (await call('/console/api/state?user=dana')).channels
      .find((c: { id: string }) => c.id === 'requests')
      .messages.map((m: any) => m.text),
  ).toEqual(before.typed);
  expect(await dmTexts('dana')).toEqual(before.dms);

  // The level-2 approver approves on the card kept from the first run.
  expect(
    await send('/console/api/action', {
      user: 'bob',
      channel: 'security-approvals',
      messageId: securityCard.id,
      requestId,
      action: 'approve',
    }),
  ).toMatchObject({ kind: 'info', text: expect.stringContaining(requestId) });
  const approved = await cardMessage('bob', 'security-approvals', requestId);
  expect(approved.id).toBe(securityCard.id);
  expect(approved.card.status).toBe('active');
  const allCards = (await call('/console/api/state?user=bob')).channels.flatMap((c: any) =>
    c.messages.filter((m: any) => m.card?.requestId === requestId),
  );
  expect(allCards).toHaveLength(2);
  expect((await dmTexts('dana')).join('\n')).toContain('aws ssm start-session');
});
