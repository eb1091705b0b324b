import { DingTalkAdapter, type DingTalkAdapterOptions } from '../../../adapters/dingtalk/dingtalk-adapter';
import { DINGTALK_EVENTS_PATH } from '../../../adapters/dingtalk/events-route';
import { dingTalkSign } from '../../../adapters/dingtalk/request-signature';
import { TOPIC_CARD_CALLBACK, TOPIC_ROBOT_MESSAGE } from '../../../adapters/dingtalk/stream-client';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import type { InboundEvent, Reply } from '../../../src/ports/chat';
import { adapterOptionsFor, FAKE_CLIENT_SECRET, FakeDingTalk } from '../../support/fake-dingtalk';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import { makeRequest } from '../../support/fixtures';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { testConfig } from '../../support/harness';
import { cardCallback, robotMessage, visibleText } from './dingtalk-payloads';

// The adapter's other modes: degraded (no card template: markdown messages and typed decisions), HTTP transport,
// and the click deadline.

const OPS = 'cidOps==';
const CONTEXT: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: [] };
const REQUESTS = 'cidRequests==';

let fake: FakeDingTalk;
let adapter: DingTalkAdapter | undefined;
let server: RunningHttpServer | undefined;
/** The core and jitbot's HTTP server, when a test starts them (startWithCore). */
let flow: CoreFlow | undefined;

beforeEach(async () => {
  fake = await FakeDingTalk.start({
    users: [
      { userid: 'manager4521', name: '张三' },
      { userid: 'ops7', name: 'Li Si' },
    ],
  });
});

afterEach(async () => {
  if (flow) await flow.stop();
  else await adapter?.stop();
  await server?.close();
  await fake.close();
  adapter = undefined;
  server = undefined;
  flow = undefined;
});

function makeAdapter(overrides: Partial<DingTalkAdapterOptions> = {}): DingTalkAdapter {
  adapter = new DingTalkAdapter(adapterOptionsFor(fake, overrides));
  return adapter;
}

async function startWithCore(dingtalk: DingTalkAdapter, options: { intake?: boolean } = {}): Promise<CoreFlow> {
  const config = testConfig((c) => {
    c.roles['ops-approvers']!.channels.dingtalk = OPS;
    c.roles['ops-approvers']!.members.push('dingtalk:ops7');
    c.identities.push({
      match: { platform: 'dingtalk', userId: 'manager4521' },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/zhang' },
      groups: ['developers'],
    });
  });
  flow = await startCoreFlow({ config, adapter: dingtalk, owner: 'dingtalk-modes', ...options });
  return flow;
}

const settle = async () => {
  await adapter!.idle();
  await flow?.core.outbox.idle();
};
const groupPosts = (channel: string) =>
  fake.messages
    .filter((m) => m.kind === 'group' && m.to === channel)
    .map((m) => ({ msgKey: m.msgKey, text: visibleText(String(m.msgParam.text ?? m.msgParam.content)) }));
const dmsTo = (userId: string) =>
  fake.messages
    .filter((m) => m.kind === 'direct' && (m.to as string[]).includes(userId))
    .map((m) => String(m.msgParam.content));
const idIn = (text: string) => /JIT-[0-9A-Z]{5}/.exec(text)![0];

test('degraded mode: the card is a markdown message saying how to decide; a typed "approve JIT-…" decides', async () => {
  const dingtalk = makeAdapter();
  expect(dingtalk.capabilities).toMatchObject({
    threads: false,
    privateClickReply: false,
    privateCommandReply: false,
    cardInClickResponse: false,
    updateInPlace: false,
    inlineInputs: false,
  });
  await startWithCore(dingtalk);

  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rerun the batch', userId: 'manager4521', group: REQUESTS }),
  );
  await settle();
  const requestId = idIn(dmsTo('manager4521').at(-1)!);
  expect(fake.cards.size).toBe(0);
  const [posted] = groupPosts(OPS);
  expect(posted!.msgKey).toBe('sampleMarkdown');
  expect(posted!.text).toContain(`@jitbot approve ${requestId} …`);

  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: `approve ${requestId.toLowerCase()} fine by me`, userId: 'ops7', group: OPS }),
  );
  await settle();
  expect(dmsTo('ops7').at(-1)).toContain(`Recorded your approval of ${requestId}`);
  const texts = groupPosts(OPS)
    .map((p) => p.text)
    .join('\n');
  expect(texts).toContain('fine by me');
  // The redrawn card (new status) is posted again, now without the decide-by-text hints.
  const redrawn = groupPosts(OPS).filter((p) => p.msgKey === 'sampleMarkdown' && p.text.includes('Access active'));
  expect(redrawn.length).toBeGreaterThanOrEqual(1);
  expect(redrawn.at(-1)!.text).not.toContain(`approve ${requestId}`);
});

test('with a card template, a typed decision is still taken, and its answer comes by DM (a message has no card to show it on)', async () => {
  const dingtalk = makeAdapter({ cardTemplateId: 'tpl.schema' });
  expect(dingtalk.capabilities).toMatchObject({
    privateClickReply: true,
    privateCommandReply: false,
    cardInClickResponse: true,
  });
  await startWithCore(dingtalk);
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rerun the batch', userId: 'manager4521', group: REQUESTS }),
  );
  await settle();
  const requestId = idIn(dmsTo('manager4521').at(-1)!);
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: `reject ${requestId} not now`, userId: 'ops7', group: OPS }),
  );
  await settle();
  expect(dmsTo('ops7')).toEqual([expect.stringContaining(`Recorded your rejection of ${requestId}`)]);
  expect([...fake.cards.values()][0]!.cardParamMap.status).toBe('rejected');
});

test('a card post retried after DingTalk already created the card updates that card instead of failing', async () => {
  const dingtalk = makeAdapter({ cardTemplateId: 'tpl.schema' });
  const card = buildCard(
    makeRequest({ requester: { ...makeRequest().requester, platform: 'dingtalk', userId: 'manager4521' } }),
    CONTEXT,
  );
  const first = await dingtalk.postCard({ platform: 'dingtalk', channelId: OPS }, card);
  const again = await dingtalk.postCard(
    { platform: 'dingtalk', channelId: OPS },
    { ...card, version: card.version + 1, statusText: 'redrawn' },
  );
  expect(again).toEqual(first);
  expect(fake.cards.size).toBe(1);
  expect(fake.cards.get(first.messageId)!.cardParamMap.statusText).toBe('redrawn');
});

test('when DingTalk refuses the DM with an answer, a short public note in the group says so, without the answer', async () => {
  const dingtalk = makeAdapter();
  await dingtalk.start(async () => ({ kind: 'info', text: 'Submitted JIT-7K3Q2 (private detail)' }), { locale: 'en' });
  // "ghost" is no user DingTalk knows, so the one-to-one message is refused.
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'web-1 x', userId: 'ghost', nick: 'Ghost', group: REQUESTS }),
  );
  await settle();
  const notes = groupPosts(REQUESTS);
  expect(notes).toHaveLength(1);
  expect(notes[0]!.text).toContain('@Ghost');
  expect(notes[0]!.text).toContain('could not send you a direct message');
  expect(notes[0]!.text).not.toContain('private detail');
});

test('HTTP mode: no Stream connection; a signed robot message is handled and answered by DM; cards are markdown (clicks could not arrive)', async () => {
  const dingtalk = makeAdapter({ mode: 'http', cardTemplateId: 'tpl.schema' });
  const { url } = await startWithCore(dingtalk);
  expect(fake.callsTo('/v1.0/gateway/connections/open')).toEqual([]);

  const timestamp = String(Date.now());
  const response = await fetch(url + DINGTALK_EVENTS_PATH, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', timestamp, sign: dingTalkSign(timestamp, FAKE_CLIENT_SECRET) },
    body: JSON.stringify(
      robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rerun the batch', userId: 'manager4521', group: REQUESTS }),
    ),
  });
  expect(response.status).toBe(200);
  await settle();
  const requestId = idIn(dmsTo('manager4521').at(-1)!);
  expect(dingtalk.capabilities.updateInPlace).toBe(false);
  expect(fake.cards.size).toBe(0);
  expect(groupPosts(OPS).at(-1)!.text).toContain(`@jitbot approve ${requestId} …`);

  const unsigned = await fetch(url + DINGTALK_EVENTS_PATH, {
    method: 'POST',
    body: JSON.stringify(robotMessage({ text: 'x y' })),
  });
  expect(unsigned.status).toBe(401);
});

test('in Stream mode no HTTP route is mounted', async () => {
  const dingtalk = makeAdapter();
  await dingtalk.start(async () => ({ kind: 'none' }), { locale: 'en' });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [dingtalk] });
  expect((await fetch(server.url + DINGTALK_EVENTS_PATH, { method: 'POST', body: '{}' })).status).toBe(404);
});

test('a click the core answers late: the ack says "working" within the deadline, the answer follows by DM', async () => {
  const dingtalk = makeAdapter({ cardTemplateId: 'tpl.schema', clickDeadlineMs: 50 });
  let release!: (reply: Reply) => void;
  const events: InboundEvent[] = [];
  await dingtalk.start(
    (event) => {
      events.push(event);
      return new Promise<Reply>((resolve) => (release = resolve));
    },
    { locale: 'en' },
  );
  const ack = await fake.sendCallback(
    TOPIC_CARD_CALLBACK,
    cardCallback({ requestId: 'JIT-7K3Q2', channelId: OPS, action: 'approve', userId: 'ops7', comment: 'ok' }),
  );
  expect(visibleText(ack.data.response.userPrivateData.cardParamMap.note)).toBe(
    'Working on it; the answer follows in a moment.',
  );
  expect(events[0]).toMatchObject({
    kind: 'action',
    action: 'approve',
    comment: 'ok',
    actor: { userId: 'ops7', displayName: 'Li Si' },
  });
  release({ kind: 'info', text: 'Recorded your approval of JIT-7K3Q2.' });
  await settle();
  expect(dmsTo('ops7')).toEqual(['Recorded your approval of JIT-7K3Q2.']);
});

/** A request by manager4521 with its card in OPS; resolves with the request id and the card. */
async function requestWithCard(): Promise<{ requestId: string; outTrackId: string }> {
  await fake.sendCallback(
    TOPIC_ROBOT_MESSAGE,
    robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rerun the batch', userId: 'manager4521', group: REQUESTS }),
  );
  await settle();
  const requestId = idIn(dmsTo('manager4521').at(-1)!);
  return { requestId, outTrackId: [...fake.cards.keys()][0]! };
}

/** The next store write of an inbound event waits for `release`; then it does what `then` says. */
function slowInboundWrite(store: CoreFlow['store'], then: 'store' | 'fail'): () => void {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const record = store.recordInboundEvent.bind(store);
  jest.spyOn(store, 'recordInboundEvent').mockImplementationOnce(async (...args) => {
    await released;
    if (then === 'fail') throw new Error('store timed out');
    return record(...args);
  });
  return release;
}

test('a click whose store write outlasts the deadline: "working" in the ack, then the real answer replaces it on the card and comes by DM; applied once', async () => {
  const dingtalk = makeAdapter({ cardTemplateId: 'tpl.schema', clickDeadlineMs: 50 });
  const { store, granter } = await startWithCore(dingtalk, { intake: true });
  const { requestId, outTrackId } = await requestWithCard();

  const release = slowInboundWrite(store, 'store');
  let ack: Awaited<ReturnType<typeof fake.sendCallback>>;
  try {
    ack = await fake.sendCallback(
      TOPIC_CARD_CALLBACK,
      cardCallback({ requestId, channelId: OPS, action: 'approve', userId: 'ops7' }),
    );
  } finally {
    release();
  }
  expect(visibleText(ack.data.response.userPrivateData.cardParamMap.note)).toBe(
    'Working on it; the answer follows in a moment.',
  );
  await settle();

  const card = fake.cards.get(outTrackId)!;
  expect(visibleText(card.privateData.ops7!.note!)).toContain(`Recorded your approval of ${requestId}`);
  expect(dmsTo('ops7')).toEqual([expect.stringContaining(`Recorded your approval of ${requestId}`)]);
  expect(card.cardParamMap.status).toBe('active');
  expect(granter.granted).toBe(1);
  // Answered: nothing is left for a restart to replay (and apply again).
  expect(await store.listUnprocessedInboundEvents(10)).toEqual([]);
});

test('a click whose store write is slow and then fails is still taken once, by the fallback, and answered on the card', async () => {
  const dingtalk = makeAdapter({ cardTemplateId: 'tpl.schema', clickDeadlineMs: 50 });
  const { store, granter } = await startWithCore(dingtalk, { intake: true });
  const { requestId, outTrackId } = await requestWithCard();

  const release = slowInboundWrite(store, 'fail');
  try {
    await fake.sendCallback(
      TOPIC_CARD_CALLBACK,
      cardCallback({ requestId, channelId: OPS, action: 'approve', userId: 'ops7' }),
    );
  } finally {
    release();
  }
  await settle();
  const card = fake.cards.get(outTrackId)!;
  expect(visibleText(card.privateData.ops7!.note!)).toContain(`Recorded your approval of ${requestId}`);
  expect(dmsTo('ops7')).toEqual([expect.stringContaining(`Recorded your approval of ${requestId}`)]);
  expect(granter.granted).toBe(1);
  expect(await store.listUnprocessedInboundEvents(10)).toEqual([]);
});

test('a handler failure leaves the robot message un-acked, so DingTalk redelivers it', async () => {
  const dingtalk = makeAdapter();
  let calls = 0;
  await dingtalk.start(
    async () => {
      calls += 1;
      if (calls === 1) throw new Error('store unavailable');
      return { kind: 'info', text: 'ok' };
    },
    { locale: 'en' },
  );
  const message = robotMessage({ text: 'web-1 x', userId: 'manager4521' });
  await expect(
    fake.sendCallback(TOPIC_ROBOT_MESSAGE, message, { messageId: 'frame-1', timeoutMs: 300 }),
  ).rejects.toThrow(/timed out/);
  const ack = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, message, { messageId: 'frame-1' });
  expect(ack.code).toBe(200);
  await settle();
  // The person heard that it failed; the redelivery then did the work and answered.
  expect(dmsTo('manager4521')).toEqual(['jitbot could not process this; the details are in its log.', 'ok']);
});

test('with the real core and its durable intake, a robot message that could not be stored is not acked; the redelivery is processed once', async () => {
  const dingtalk = makeAdapter();
  const { store } = await startWithCore(dingtalk, { intake: true });
  const recordInboundEvent = jest.spyOn(store, 'recordInboundEvent').mockRejectedValue(new Error('store unavailable'));
  const message = robotMessage({
    text: 'i-0b0b0b0b0b0b0b0b1 rerun the batch',
    userId: 'manager4521',
    group: REQUESTS,
    msgId: 'msg-store-down',
  });
  await expect(
    fake.sendCallback(TOPIC_ROBOT_MESSAGE, message, { messageId: 'frame-1', timeoutMs: 500 }),
  ).rejects.toThrow(/timed out/);
  await settle();
  // Tried by the intake and then by the handler's fallback: nothing stored, nothing requested.
  expect(recordInboundEvent).toHaveBeenCalledTimes(2);
  expect(groupPosts(OPS)).toEqual([]);

  recordInboundEvent.mockRestore();
  const ack = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, message, { messageId: 'frame-1' });
  expect(ack.code).toBe(200);
  await settle();
  const again = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, message, { messageId: 'frame-1' });
  expect(again.code).toBe(200);
  await settle();
  const requests = await store.listRequestsByRequester('dingtalk', 'manager4521', 10);
  expect(requests).toHaveLength(1);
  expect(groupPosts(OPS)).toHaveLength(1);
  expect(dmsTo('manager4521').at(-1)).toContain(requests[0]!.id);
});

test('in HTTP mode a robot message that could not be stored is answered 500, so DingTalk retries it', async () => {
  const dingtalk = makeAdapter({ mode: 'http' });
  const { store, url } = await startWithCore(dingtalk, { intake: true });
  jest.spyOn(store, 'recordInboundEvent').mockRejectedValueOnce(new Error('store unavailable'));
  const post = () => {
    const timestamp = String(Date.now());
    return fetch(url + DINGTALK_EVENTS_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', timestamp, sign: dingTalkSign(timestamp, FAKE_CLIENT_SECRET) },
      body: JSON.stringify(
        robotMessage({ text: 'i-0b0b0b0b0b0b0b0b1 rerun', userId: 'manager4521', group: REQUESTS, msgId: 'm-http' }),
      ),
    });
  };
  expect((await post()).status).toBe(500);
  await settle();
  // The handler's own store attempt worked this time: the request exists; the retry is a duplicate, acked.
  expect(await store.listRequestsByRequester('dingtalk', 'manager4521', 10)).toHaveLength(1);
  expect((await post()).status).toBe(200);
  await settle();
  expect(await store.listRequestsByRequester('dingtalk', 'manager4521', 10)).toHaveLength(1);
});

test('start refuses credentials DingTalk does not accept, without echoing the secret', async () => {
  const wrong = makeAdapter({ clientSecret: 'definitely-wrong' });
  const error = await wrong.start(async () => ({ kind: 'none' }), { locale: 'en' }).catch((e: unknown) => e as Error);
  expect(error?.message).toMatch(/client id and client secret/);
  expect(error?.message).not.toContain('definitely-wrong');
  expect(fake.openSockets).toBe(0);
});

test('a Stream frame whose data is not JSON is acked and dropped, not redelivered forever', async () => {
  const dingtalk = makeAdapter();
  const events: InboundEvent[] = [];
  await dingtalk.start(
    async (event) => {
      events.push(event);
      return { kind: 'none' };
    },
    { locale: 'en' },
  );
  const ack = await fake.sendCallback(TOPIC_ROBOT_MESSAGE, '{not json at all', { rawData: true });
  expect(ack.code).toBe(200);
  expect(events).toEqual([]);
});
