import pino from 'pino';
import type { ManualPolicy } from '../../src/core/policy-model';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import { startHarness, testConfig, type Harness } from '../support/harness';

// The service passes facts about the person to the one core rule (src/core/authority.ts): who may decide, revoke
// and cancel, with chat ids compared exactly as the platform sends them. Plus what people are told on the way.

/** No Env tag: only the one-level "default" policy covers it. */
const NODE = 'i-0b0b0b0b0b0b0b0b1';
const SLACK_APPROVER = 'U02ABCDEF';

let h: Harness;
let logLines: Record<string, unknown>[];
let deliveries = 0;

beforeEach(async () => {
  const config = testConfig((c) => {
    const fallback = c.policies.find((p): p is ManualPolicy => p.kind === 'manual' && p.name === 'default')!;
    fallback.levels[0]!.users.push(`slack:${SLACK_APPROVER}`);
  });
  logLines = [];
  h = await startHarness({
    config,
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
  });
});

afterEach(async () => {
  await h.close();
});

const slackUser = (userId: string) => ({ platform: 'slack' as const, userId, displayName: 'Kim' });

function slackCommand(userId: string, text: string): CommandEvent {
  return {
    kind: 'command',
    platform: 'slack',
    deliveryId: `slack-${++deliveries}`,
    actor: slackUser(userId),
    channel: { platform: 'slack', channelId: 'C0REQUESTS' },
    text,
  };
}

async function activeRequest(reason = 'rotate the logs'): Promise<string> {
  const id = h.idIn(await h.command('dana', `/jit ${NODE} ${reason}`));
  await h.settle();
  expect((await h.click('alice', id, 'approve')).kind).toBe('info');
  await h.settle();
  expect((await h.store.getRequest(id))!.status).toBe('active');
  return id;
}

describe('revoke', () => {
  test('a named approver with a mixed-case Slack id may revoke', async () => {
    const id = await activeRequest();
    const reply = await h.chat.send(slackCommand(SLACK_APPROVER, `revoke ${id}`));
    expect(reply).toEqual({ kind: 'info', text: `Revoking ${id}; live sessions on batch (${NODE}) will be ended.` });
    await h.settle();
    expect((await h.store.getRequest(id))!).toMatchObject({ status: 'revoked', endedBy: slackUser(SLACK_APPROVER) });
  });

  test('the same id in another case is someone else', async () => {
    const id = await activeRequest();
    const reply = await h.chat.send(slackCommand(SLACK_APPROVER.toLowerCase(), `revoke ${id}`));
    expect(reply).toEqual({
      kind: 'error',
      text: `Only the requester, an approver of ${id} or an admin can revoke it.`,
    });
    expect((await h.store.getRequest(id))!.status).toBe('active');
  });

  test('the revoke button on the card follows the same rule', async () => {
    const id = await activeRequest();
    const click: ActionEvent = {
      kind: 'action',
      platform: 'slack',
      deliveryId: `slack-${++deliveries}`,
      actor: slackUser(SLACK_APPROVER),
      channel: { platform: 'slack', channelId: 'C0OPS' },
      action: 'revoke',
      requestId: id,
    };
    expect((await h.chat.send(click)).kind).toBe('info');
  });
});

describe('what people are told', () => {
  test('cancel on an active request points to /jit revoke', async () => {
    const id = await activeRequest();
    expect(await h.command('dana', `/jit cancel ${id}`)).toEqual({
      kind: 'error',
      text: `${id} is active: to end the access now, use /jit revoke ${id}.`,
    });
  });

  test('cancel on a decided request says only pending ones can be cancelled', async () => {
    const id = h.idIn(await h.command('dana', `/jit ${NODE} not needed`));
    await h.click('alice', id, 'reject');
    expect((await h.command('dana', `/jit cancel ${id}`)).text).toBe(
      `${id} is rejected; only a pending request can be cancelled.`,
    );
  });

  test('an admin is not told to ask an admin (herself)', async () => {
    const reply = await h.command('carol', `/jit ${NODE} check disk`);
    expect(reply).toEqual({
      kind: 'error',
      text: 'Your chat account console:carol is not mapped to an AWS identity. As an admin, add it under identities in the config.',
    });
    const other = await h.command('alice', `/jit ${NODE} check disk`);
    expect(other.text).toContain('Ask an admin (console:carol) to map console:alice.');
  });

  test('the Level 1 dialog of a two-level request does not promise access', async () => {
    const id = h.idIn(await h.command('dana', '/jit web-1 deploy for 1h'));
    await h.settle();
    const confirm = h.chat.latestCard(id)!.actions.find((a) => a.id === 'approve')!.confirm!.text;
    expect(confirm).toBe(
      'Your approval counts towards Level 1 of 2 (0 of 1 so far). Dana gets access to web-1 only when every level has approved.',
    );
  });
});

describe('the lifecycle log', () => {
  test('one info line per request, decision, grant and revoke; never the reason or a comment', async () => {
    const reason = 'incident 4711 customer data';
    const id = await activeRequest(reason);
    await h.command('dana', `/jit revoke ${id}`);
    await h.settle();
    await h.command('dana', `/jit ${NODE}-missing nothing`);

    const lifecycle = logLines
      .filter((line) => line.event !== undefined)
      .map(({ event, requestId, actor, node, outcome, level }) => ({ event, requestId, actor, node, outcome, level }));
    expect(lifecycle).toEqual([
      { event: 'request', requestId: id, actor: 'console:dana', node: NODE, outcome: 'pending', level: 30 },
      { event: 'decision', requestId: id, actor: 'console:alice', node: NODE, outcome: 'approve:approved', level: 30 },
      { event: 'grant', requestId: id, actor: 'jitbot', node: NODE, outcome: 'active', level: 30 },
      { event: 'revoke', requestId: id, actor: 'console:dana', node: NODE, outcome: 'revoking', level: 30 },
      { event: 'revoke', requestId: id, actor: 'jitbot', node: NODE, outcome: 'revoked', level: 30 },
      {
        event: 'request',
        requestId: undefined,
        actor: 'console:dana',
        node: `${NODE}-missing`,
        outcome: 'refused:node_not_found',
        level: 30,
      },
    ]);
    expect(JSON.stringify(logLines)).not.toContain('incident 4711');
  });
});
