import type { JitRequest, MessageRef } from '../src/core/model';
import { systemClock } from '../src/ports/clock';
import type { Store } from '../src/ports/store';
import type { JitService } from '../src/services/jit-service';
import { measureAsync, type Measurement } from './measure';
import { approveClick, assembleBenchJitbot, benchConfig, requestCommand, requestIdIn } from './service-fixture';

// Approvals through JitService.handle, as a click arrives from a chat adapter: take the delivery (de-duplication),
// look up the approver, read the request, decide, compare-and-set. Once without the effects (they stay queued in the
// request's outbox) and once with the outbox performing them (dry-run grant, card redraws, thread reply, DM,
// audit) before the next click. Each click is the final approval of its own pending request.

const APPROVALS = 500;

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark check failed: ${message}`);
}

export async function benchServiceApprovals(store: Store): Promise<Measurement[]> {
  const config = benchConfig();
  const jitbot = assembleBenchJitbot(store, systemClock, config);
  const { service, outbox } = jitbot;
  // A second, identical jitbot on the same store whose outbox is never woken: committed changes keep their
  // effects queued in the request.
  const queuedOnly = assembleBenchJitbot(store, systemClock, config);
  queuedOnly.outbox.kick = () => undefined;
  const withoutEffects = queuedOnly.service;

  // Pending requests made the way people make them: a command through the service, then its card posted.
  const pending: { id: string; card: MessageRef; stored: JitRequest }[] = [];
  for (let i = 0; i < 3 * APPROVALS; i++) {
    const reply = await service.handle(requestCommand(`bench-request-${i}`, `service benchmark ${i}`, i));
    const id = requestIdIn(reply.text);
    check(reply.kind === 'info' && id !== undefined, `request ${i} was not submitted: ${reply.text}`);
    await outbox.idle();
    const stored = await store.getRequest(id);
    check(
      stored?.status === 'pending' && stored.cards.length === 1 && stored.outbox.length === 0,
      `request ${id} is pending with its card posted`,
    );
    pending.push({ id, card: stored.cards[0]!, stored });
  }

  let recorded = 0;
  const approve = (handler: JitService, offset: number) => async (i: number) => {
    const { id, card } = pending[offset + i]!;
    const reply = await handler.handle(approveClick(`bench-approve-${offset + i}`, id, card));
    if (reply.kind === 'info' && reply.text?.startsWith('Recorded your approval')) recorded++;
  };

  const rows: Measurement[] = [];
  rows.push(
    await measureAsync(
      'service approve, effects queued',
      {
        iterations: APPROVALS,
        warmup: 0,
        note: 'JitService.handle(click) as an adapter calls it; its effects left queued in the outbox',
      },
      approve(withoutEffects, 0),
    ),
  );
  check(recorded === APPROVALS, `${recorded} of ${APPROVALS} approvals were recorded`);
  const queued = await store.getRequest(pending[0]!.id);
  check(queued?.status === 'approved' && queued.outbox.length > 0, 'an approval without effects leaves them queued');

  rows.push(await benchApprovalStatements(store, queued, pending.slice(2 * APPROVALS)));

  recorded = 0;
  const effectsBefore = { ...jitbot.chat.calls };
  rows.push(
    await measureAsync('service approve + effects', { iterations: APPROVALS, warmup: 0, note: '' }, async (i) => {
      await approve(service, APPROVALS)(i);
      await outbox.idle();
    }),
  );
  check(recorded === APPROVALS, `${recorded} of ${APPROVALS} approvals with effects were recorded`);
  const done = await store.getRequest(pending[APPROVALS]!.id);
  check(
    done?.status === 'active' && done.grant?.dryRun === true && done.outbox.length === 0,
    'an approval with effects ends active, granted, outbox empty',
  );
  const calls = jitbot.chat.calls;
  const perApproval = (name: keyof typeof calls) => (calls[name] - effectsBefore[name]) / APPROVALS;
  rows.at(-1)!.note =
    `+ outbox until idle: dry-run grant, ${perApproval('updateCard')} card redraws, ${perApproval('replyInThread')} thread replies, ` +
    `${perApproval('notifyUser')} DMs, audit`;
  return rows;
}

/**
 * The store work of one approval through the service, without jitbot: the four statements the durability rules
 * need (record the click before the ack, read the request, compare-and-set it to approved, mark the click
 * processed once answered), on requests made the same way, each written as the service writes an approval (the
 * approved request `template` of the service row, re-keyed).
 */
async function benchApprovalStatements(
  store: Store,
  template: JitRequest,
  requests: readonly { id: string; card: MessageRef; stored: JitRequest }[],
): Promise<Measurement> {
  const approved = requests.map(({ stored }) => ({
    ...template,
    id: stored.id,
    requester: stored.requester,
    reason: stored.reason,
    createdAt: stored.createdAt,
    timeoutAt: stored.timeoutAt,
    cards: stored.cards,
    version: stored.version + 1,
    updatedAt: Date.now(),
  }));
  let saved = 0;
  const row = await measureAsync(
    "store: an approval's 4 statements",
    {
      iterations: requests.length,
      warmup: 0,
      note: 'record the click, read, CAS pending → approved, mark processed: the service row without jitbot',
    },
    async (i) => {
      const { id, card } = requests[i]!;
      const click = approveClick(`bench-statements-${i}`, id, card);
      if (!(await store.recordInboundEvent(click, Date.now(), 3_600_000))) return;
      const current = await store.getRequest(id);
      if (current && (await store.saveRequest(approved[i]!, current.version))) saved++;
      await store.markInboundEventProcessed(click.platform, click.deliveryId);
    },
  );
  check(saved === requests.length, `${saved} of ${requests.length} raw approvals were saved`);
  return row;
}
