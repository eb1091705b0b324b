import {
  InboundDispatcher,
  type AckThenAnswerDelivery,
  type AnswerInResponseDelivery,
  type StartTimer,
  type Translation,
} from '../../../adapters/shared/inbound-dispatcher';
import type { ApprovalCard } from '../../../src/core/card';
import { t } from '../../../src/core/i18n/catalog';
import type { ChannelRef, UserRef } from '../../../src/core/model';
import type { ActionEvent, ChatCapabilities, CommandEvent, InboundEvent, Reply } from '../../../src/ports/chat';

// The shared inbound dispatcher on its own: a scripted core, a manual deadline timer, and recorded answers.

/** Deadline timers that fire only when the test says so. */
class ManualTimers {
  private readonly pending = new Map<number, { ms: number; fire: () => void }>();
  private next = 0;
  readonly start: StartTimer = (ms, fire) => {
    const id = ++this.next;
    this.pending.set(id, { ms, fire });
    return () => this.pending.delete(id);
  };
  get armed(): number[] {
    return [...this.pending.values()].map((timer) => timer.ms);
  }
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.fire();
  }
}

/** A promise the test resolves by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets queued promise callbacks run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const dana: UserRef = { platform: 'console', userId: 'dana', displayName: 'Dana' };
const requests: ChannelRef = { platform: 'console', channelId: 'requests' };

const command = (overrides: Partial<CommandEvent> = {}): CommandEvent => ({
  kind: 'command',
  platform: 'console',
  deliveryId: 'd-1',
  actor: dana,
  channel: requests,
  text: 'list',
  ...overrides,
});

const click = (overrides: Partial<ActionEvent> = {}): ActionEvent => ({
  kind: 'action',
  platform: 'console',
  deliveryId: 'd-click',
  actor: dana,
  channel: { platform: 'console', channelId: 'ops' },
  action: 'approve',
  requestId: 'JIT-7K3Q2',
  message: { platform: 'console', channelId: 'ops', messageId: 'm1' },
  ...overrides,
});

const CARD = { requestId: 'JIT-7K3Q2', version: 3 } as ApprovalCard;

const everythingPrivate: ChatCapabilities = {
  threads: true,
  privateClickReply: true,
  privateCommandReply: true,
  cardInClickResponse: false,
  inlineInputs: true,
  updateInPlace: true,
  emailLookup: true,
};

let timers: ManualTimers;
let handled: InboundEvent[];
let core: (event: InboundEvent) => Promise<Reply>;
let dms: { user: UserRef; text: string; lastSeenIn: ChannelRef }[];
let logged: { level: string; obj: object; msg: string }[];

function dispatcher(
  capabilities: Partial<ChatCapabilities> = {},
  enrich?: (event: InboundEvent) => Promise<InboundEvent>,
): InboundDispatcher {
  const log = (level: string) => (obj: object, msg: string) => logged.push({ level, obj, msg });
  const made = new InboundDispatcher({
    platform: 'console',
    capabilities: { ...everythingPrivate, ...capabilities },
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    notifyUser: async (user, text, lastSeenIn) => {
      dms.push({ user, text, lastSeenIn });
    },
    startTimer: timers.start,
    ...(enrich && { enrich }),
  });
  made.start(
    async (event) => {
      handled.push(event);
      return core(event);
    },
    { locale: 'en' },
  );
  return made;
}

beforeEach(() => {
  timers = new ManualTimers();
  handled = [];
  dms = [];
  logged = [];
  core = async () => ({ kind: 'info', text: 'done' });
});

function ackDelivery(translation: Translation, extra: Partial<AckThenAnswerDelivery> = {}) {
  const answers: Reply[] = [];
  const delivery: AckThenAnswerDelivery = {
    translate: () => translation,
    answer: async (reply) => {
      answers.push(reply);
    },
    ...extra,
  };
  return { delivery, answers };
}

function inResponse(translation: Translation, extra: Partial<AnswerInResponseDelivery> = {}): AnswerInResponseDelivery {
  return { translate: () => translation, deadlineMs: 2_500, ...extra };
}

describe('verification and translation', () => {
  test('a delivery that fails verification is refused before it is even read', async () => {
    const inbound = dispatcher();
    const translate = jest.fn(() => ({ kind: 'event', event: command() }) as Translation);
    const outcome = await inbound.answerInResponse({
      verify: () => ({ ok: false, reason: 'bad signature' }),
      translate,
      deadlineMs: 2_500,
    });
    expect(outcome).toEqual({ outcome: 'refused', reason: 'bad signature' });
    expect(translate).not.toHaveBeenCalled();
    expect(handled).toEqual([]);
    expect(logged).toContainEqual({
      level: 'warn',
      obj: { platform: 'console', reason: 'bad signature' },
      msg: 'inbound request refused: verification failed',
    });
  });

  test("handshakes, ignored and invalid deliveries are the transport's to answer; the core sees none of them", async () => {
    const inbound = dispatcher();
    expect(
      await inbound.ackThenAnswer(ackDelivery({ kind: 'handshake', response: { challenge: 'c' } }).delivery),
    ).toEqual({
      outcome: 'handshake',
      response: { challenge: 'c' },
    });
    expect(await inbound.ackThenAnswer(ackDelivery({ kind: 'ignore' }).delivery)).toEqual({ outcome: 'ignored' });
    expect(await inbound.answerInResponse(inResponse({ kind: 'invalid', status: 415, error: 'form only' }))).toEqual({
      outcome: 'invalid',
      status: 415,
      error: 'form only',
    });
    await inbound.idle();
    expect(handled).toEqual([]);
  });

  test("a refusal is answered in the person's language without reaching the core", async () => {
    const inbound = dispatcher();
    const { delivery, answers } = ackDelivery({
      kind: 'refuse',
      event: command({ locale: 'ja-JP' }),
      key: 'inbound.wrong_command',
      params: { command: '/other', expected: '/jit' },
    });
    expect(await inbound.ackThenAnswer(delivery)).toEqual({ outcome: 'acknowledged' });
    await inbound.idle();
    expect(handled).toEqual([]);
    expect(answers).toEqual([
      { kind: 'error', text: t('ja', 'inbound.wrong_command', { command: '/other', expected: '/jit' }) },
    ]);
  });
});

describe('ack-then-answer (Slack)', () => {
  test('acknowledges before the core answers; the Reply then goes through the reply channel', async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });

    expect(await inbound.ackThenAnswer(delivery)).toEqual({ outcome: 'acknowledged' });
    await flush();
    expect(handled).toHaveLength(1);
    expect(answers).toEqual([]);

    reply.resolve({ kind: 'info', text: 'Submitted JIT-7K3Q2' });
    await inbound.idle();
    expect(answers).toEqual([{ kind: 'info', text: 'Submitted JIT-7K3Q2' }]);
    expect(timers.armed).toEqual([]);
  });

  test('enrichment runs after the acknowledgement and a failing look-up keeps the event as it came', async () => {
    const lookUp = deferred<InboundEvent>();
    const inbound = dispatcher({}, () => lookUp.promise);
    expect(await inbound.ackThenAnswer(ackDelivery({ kind: 'event', event: command() }).delivery)).toEqual({
      outcome: 'acknowledged',
    });
    expect(handled).toEqual([]);
    lookUp.resolve({ ...command(), actor: { ...dana, displayName: 'Dana D.' } });
    await inbound.idle();
    expect(handled[0]!.actor.displayName).toBe('Dana D.');

    const failing = dispatcher({}, async () => {
      throw new Error('users.info down');
    });
    await failing.ackThenAnswer(ackDelivery({ kind: 'event', event: command({ deliveryId: 'd-2' }) }).delivery);
    await failing.idle();
    expect(handled[1]!.actor.displayName).toBe('Dana');
  });

  test('a reply of kind none sends nothing', async () => {
    const inbound = dispatcher();
    core = async () => ({ kind: 'none' });
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });
    await inbound.ackThenAnswer(delivery);
    await inbound.idle();
    expect(answers).toEqual([]);
    expect(dms).toEqual([]);
  });

  test('a platform that cannot answer a command privately gets the answer to the person by DM, where they were seen', async () => {
    const inbound = dispatcher({ privateCommandReply: false });
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });
    await inbound.ackThenAnswer(delivery);
    await inbound.idle();
    expect(answers).toEqual([]);
    expect(dms).toEqual([{ user: dana, text: 'done', lastSeenIn: requests }]);
  });

  test('a redelivery while the first is in flight is acknowledged and joins it: one core call, one answer', async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const first = ackDelivery({ kind: 'event', event: command() });
    const again = ackDelivery({ kind: 'event', event: command() }, { retryNum: 1 });
    await inbound.ackThenAnswer(first.delivery);
    expect(await inbound.ackThenAnswer(again.delivery)).toEqual({ outcome: 'acknowledged' });
    reply.resolve({ kind: 'info', text: 'Submitted' });
    await inbound.idle();
    expect(handled).toHaveLength(1);
    expect(first.answers).toHaveLength(1);
    expect(again.answers).toEqual([]);

    // Once handled, a redelivery reaches the core again (which de-duplicates it durably).
    await inbound.ackThenAnswer(again.delivery);
    await inbound.idle();
    expect(handled).toHaveLength(2);
  });

  test("a failing core is reported in the workspace language, or the person's when the platform says it", async () => {
    const inbound = dispatcher();
    inbound.start(
      async () => {
        throw new Error('table not found: secret-arn');
      },
      { locale: 'zh-CN' },
    );
    const workspace = ackDelivery({ kind: 'event', event: command() });
    const japanese = ackDelivery({ kind: 'event', event: command({ deliveryId: 'd-ja', locale: 'ja' }) });
    await inbound.ackThenAnswer(workspace.delivery);
    await inbound.ackThenAnswer(japanese.delivery);
    await inbound.idle();
    expect(workspace.answers).toEqual([{ kind: 'error', text: t('zh-CN', 'inbound.failed') }]);
    expect(japanese.answers).toEqual([{ kind: 'error', text: t('ja', 'inbound.failed') }]);
    expect(JSON.stringify(workspace.answers)).not.toContain('secret');
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  test('before start and after stop the person is told jitbot is starting', async () => {
    const inbound = dispatcher();
    await inbound.stop();
    expect(inbound.ready).toBe(false);
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });
    await inbound.ackThenAnswer(delivery);
    await inbound.idle();
    expect(handled).toEqual([]);
    expect(answers).toEqual([{ kind: 'error', text: t('en', 'inbound.not_ready') }]);
  });

  test('a reply channel that fails is logged without the error details reaching anyone', async () => {
    const inbound = dispatcher();
    const { delivery } = ackDelivery(
      { kind: 'event', event: command() },
      {
        answer: async () => {
          throw new Error('response_url answered HTTP 404');
        },
      },
    );
    await inbound.ackThenAnswer(delivery);
    await inbound.idle();
    expect(logged).toContainEqual({
      level: 'warn',
      obj: { platform: 'console', err: 'response_url answered HTTP 404' },
      msg: 'could not answer the person',
    });
  });
});

describe('answer-in-response (Feishu, Teams, DingTalk card callbacks)', () => {
  test('deadline not hit: the Reply, with the redrawn card, is the answer and the timer is cancelled', async () => {
    const inbound = dispatcher();
    core = async () => ({ kind: 'info', text: 'Recorded your approval', card: CARD });
    const outcome = await inbound.answerInResponse(inResponse({ kind: 'event', event: click() }));
    expect(outcome).toEqual({
      outcome: 'answered',
      reply: { kind: 'info', text: 'Recorded your approval', card: CARD },
      failed: false,
    });
    expect(timers.armed).toEqual([]);
    await inbound.idle();
    expect(dms).toEqual([]);
  });

  test('deadline hit: the platform gets "working…" at once; the Reply follows by DM when the core answers', async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const answered = inbound.answerInResponse(inResponse({ kind: 'event', event: click({ locale: 'zh-CN' }) }));
    await flush();
    expect(timers.armed).toEqual([2_500]);
    timers.fireAll();
    expect(await answered).toEqual({ outcome: 'pending', text: t('zh-CN', 'inbound.working') });
    expect(dms).toEqual([]);

    reply.resolve({ kind: 'error', text: 'JIT-7K3Q2 was already approved by Bob', card: CARD });
    await inbound.idle();
    expect(dms).toEqual([{ user: dana, text: 'JIT-7K3Q2 was already approved by Bob', lastSeenIn: click().channel }]);
  });

  test("deadline hit with a late route of the adapter's own: it gets the Reply instead of a DM", async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const late: Reply[] = [];
    const answered = inbound.answerInResponse(
      inResponse({ kind: 'event', event: click() }, { late: async (r) => void late.push(r) }),
    );
    await flush();
    timers.fireAll();
    expect((await answered).outcome).toBe('pending');
    reply.resolve({ kind: 'info', text: 'Recorded', card: CARD });
    await inbound.idle();
    expect(late).toEqual([{ kind: 'info', text: 'Recorded', card: CARD }]);
    expect(dms).toEqual([]);
  });

  test('a redelivery of a slow click gets the same answer, and the late DM goes out once', async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const first = inbound.answerInResponse(inResponse({ kind: 'event', event: click() }));
    await flush();
    timers.fireAll();
    expect((await first).outcome).toBe('pending');

    const again = inbound.answerInResponse(inResponse({ kind: 'event', event: click() }));
    await flush();
    reply.resolve({ kind: 'info', text: 'Recorded', card: CARD });
    expect(await again).toEqual({
      outcome: 'answered',
      reply: { kind: 'info', text: 'Recorded', card: CARD },
      failed: false,
    });
    await inbound.idle();
    expect(handled).toHaveLength(1);
    expect(dms).toHaveLength(1);
  });

  test('a platform that cannot show a click reply privately: the text goes by DM, the answer keeps the card', async () => {
    const inbound = dispatcher({ privateClickReply: false });
    core = async () => ({ kind: 'error', text: 'You requested JIT-7K3Q2; someone else must decide it.', card: CARD });
    const outcome = await inbound.answerInResponse(inResponse({ kind: 'event', event: click() }));
    expect(outcome).toEqual({ outcome: 'answered', reply: { kind: 'error', card: CARD }, failed: false });
    await inbound.idle();
    expect(dms.map((dm) => dm.text)).toEqual(['You requested JIT-7K3Q2; someone else must decide it.']);

    core = async () => ({ kind: 'info', text: 'Submitted' });
    const typed = await inbound.answerInResponse(inResponse({ kind: 'event', event: command({ deliveryId: 'd-9' }) }));
    // Commands are private on this platform: the text stays in the answer.
    expect(typed).toEqual({ outcome: 'answered', reply: { kind: 'info', text: 'Submitted' }, failed: false });
  });

  test('a failing core is answered in time with the failure text, marked failed', async () => {
    const inbound = dispatcher();
    core = async () => {
      throw new Error('boom');
    };
    expect(await inbound.answerInResponse(inResponse({ kind: 'event', event: click() }))).toEqual({
      outcome: 'answered',
      reply: { kind: 'error', text: t('en', 'inbound.failed') },
      failed: true,
    });
  });

  test('idle() waits for the late answer', async () => {
    const inbound = dispatcher();
    const reply = deferred<Reply>();
    core = () => reply.promise;
    const answered = inbound.answerInResponse(inResponse({ kind: 'event', event: command() }));
    await flush();
    timers.fireAll();
    await answered;
    let idle = false;
    const waiting = inbound.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    reply.resolve({ kind: 'info', text: 'late' });
    await waiting;
    expect(dms.map((dm) => dm.text)).toEqual(['late']);
  });
});

describe('bounded work', () => {
  test('a burst is acknowledged at once while the core works on at most `concurrency` events', async () => {
    const inbound = new InboundDispatcher({
      platform: 'console',
      capabilities: everythingPrivate,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      notifyUser: async () => undefined,
      concurrency: 2,
    });
    let working = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    inbound.start(
      async (event) => {
        working++;
        most = Math.max(most, working);
        await new Promise<void>((resolve) => gates.push(resolve));
        working--;
        return { kind: 'info', text: `done ${event.deliveryId}` };
      },
      { locale: 'en' },
    );
    const answers: Reply[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        inbound.ackThenAnswer({
          translate: () => ({ kind: 'event', event: command({ deliveryId: `burst-${i}` }) }),
          answer: async (reply) => void answers.push(reply),
        }),
      ),
    );
    expect(outcomes.every((o) => o.outcome === 'acknowledged')).toBe(true);
    await flush();
    expect(working).toBe(2);
    while (answers.length < 6) {
      gates.shift()?.();
      await flush();
    }
    await inbound.idle();
    expect(most).toBe(2);
    expect(answers.map((a) => a.text).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `done burst-${i}`));
  });
});

describe('durable intake', () => {
  let stored: InboundEvent[];
  let processed: InboundEvent[];
  let receiving: (event: InboundEvent) => Promise<boolean>;
  let answeredIds: string[];
  let answersSoFar: () => number;

  function withIntake(): InboundDispatcher {
    const inbound = dispatcher();
    inbound.start(
      async (event) => {
        handled.push(event);
        return core(event);
      },
      {
        locale: 'en',
        intake: {
          receive: (event) => receiving(event),
          process: async (event) => {
            processed.push(event);
            return { kind: 'info', text: 'processed' };
          },
          answered: async (event) => {
            answeredIds.push(`${event.deliveryId} after ${answersSoFar()} answer(s)`);
          },
        },
      },
    );
    return inbound;
  }

  beforeEach(() => {
    stored = [];
    processed = [];
    answeredIds = [];
    answersSoFar = () => 0;
    receiving = async (event) => {
      const fresh = !stored.some((e) => e.deliveryId === event.deliveryId);
      if (fresh) stored.push(event);
      return fresh;
    };
  });

  test('the event is stored before the acknowledgement, then processed by the intake, not the handler', async () => {
    const gate = deferred<boolean>();
    receiving = async (event) => {
      stored.push(event);
      return gate.promise;
    };
    const inbound = withIntake();
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });
    answersSoFar = () => answers.length;
    let acked = false;
    const outcome = inbound.ackThenAnswer(delivery).then((o) => ((acked = true), o));
    await flush();
    expect(stored).toHaveLength(1);
    expect(acked).toBe(false);
    gate.resolve(true);
    expect(await outcome).toEqual({ outcome: 'acknowledged' });
    await inbound.idle();
    expect(processed.map((e) => e.deliveryId)).toEqual(['d-1']);
    expect(handled).toEqual([]);
    expect(answers).toEqual([{ kind: 'info', text: 'processed' }]);
    // Marked done only once the person has the answer.
    expect(answeredIds).toEqual(['d-1 after 1 answer(s)']);
  });

  test('a delivery stored before (a redelivery after the first was handled) is acknowledged and not processed again', async () => {
    const inbound = withIntake();
    const first = ackDelivery({ kind: 'event', event: command() });
    await inbound.ackThenAnswer(first.delivery);
    await inbound.idle();
    const again = ackDelivery({ kind: 'event', event: command() });
    expect(await inbound.ackThenAnswer(again.delivery)).toEqual({ outcome: 'acknowledged' });
    await inbound.idle();
    expect(processed).toHaveLength(1);
    expect(again.answers).toEqual([]);
  });

  test('a store that fails before the ack falls back to the handler, which claims the event itself', async () => {
    receiving = async () => {
      throw new Error('disk full');
    };
    const inbound = withIntake();
    const { delivery, answers } = ackDelivery({ kind: 'event', event: command() });
    expect(await inbound.ackThenAnswer(delivery)).toEqual({ outcome: 'acknowledged' });
    await inbound.idle();
    expect(handled).toHaveLength(1);
    expect(processed).toEqual([]);
    expect(answeredIds).toEqual([]);
    expect(answers).toEqual([{ kind: 'info', text: 'done' }]);
    expect(logged.map((l) => l.msg)).toContain('could not store an inbound event before acknowledging it');
  });

  test('answer-in-response says what the intake did: stored, duplicate, or not stored (the store failed)', async () => {
    const inbound = withIntake();
    const first = await inbound.answerInResponse(inResponse({ kind: 'event', event: command() }));
    expect(first).toMatchObject({ outcome: 'answered', failed: false, intake: 'stored' });
    await inbound.idle();
    const again = await inbound.answerInResponse(inResponse({ kind: 'event', event: command() }));
    expect(again).toMatchObject({ outcome: 'answered', failed: false, intake: 'duplicate' });
    receiving = async () => {
      throw new Error('disk full');
    };
    // The handler still answers (the fallback), but the outcome says the event was not stored.
    const unstored = await inbound.answerInResponse(
      inResponse({ kind: 'event', event: command({ deliveryId: 'd-2' }) }),
    );
    expect(unstored).toMatchObject({ outcome: 'answered', failed: false, intake: 'not-stored' });
    expect(handled.map((e) => e.deliveryId)).toEqual(['d-2']);
  });

  test('refusals the adapter answers itself are not stored', async () => {
    const inbound = withIntake();
    await inbound.ackThenAnswer(
      ackDelivery({
        kind: 'refuse',
        event: command(),
        key: 'inbound.wrong_command',
        params: { command: '/x', expected: '/jit' },
      }).delivery,
    );
    await inbound.idle();
    expect(stored).toEqual([]);
  });
});
