import pino from 'pino';
import { assemble } from '../../src/app';
import { DryRunGranter } from '../../src/aws/dry-run-granter';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef } from '../../src/core/model';
import { StaticInventory } from '../../src/inventory/static-inventory';
import { DEFAULT_OUTBOX_CONCURRENCY } from '../../src/services/outbox';
import { openStore, type OpenedStore } from '../../src/store/open-store';
import { commandEvent, testConfig } from '../support/harness';
import { ManualClock } from '../support/manual-clock';
import { FIXTURE_NOW } from '../support/fixtures';
import { RecordingAdapter } from '../support/recording-adapter';

// A burst of committed requests is worked off a few outboxes at a time, so post-ack work cannot take all the CPU
// the next acknowledgements need; every effect still happens.

/** Card posts wait until released, so the test sees how many outboxes are being worked on at once. */
class GatedChat extends RecordingAdapter {
  inFlight = 0;
  maxInFlight = 0;
  private readonly gates: (() => void)[] = [];

  override async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.inFlight--;
    return super.postCard(channel, card);
  }

  releaseAll(): number {
    const released = this.gates.splice(0);
    released.forEach((release) => release());
    return released.length;
  }
}

let opened: OpenedStore;
beforeEach(async () => {
  opened = await openStore({ embedded: { inMemory: true } });
});
afterEach(async () => {
  await opened.close();
});

test(`at most ${DEFAULT_OUTBOX_CONCURRENCY} requests' effects are performed at once, and every one is performed`, async () => {
  const config = testConfig();
  const chat = new GatedChat('console');
  const { service, outbox } = assemble({
    config,
    store: opened.store,
    granter: new DryRunGranter(),
    inventory: new StaticInventory(config.inventory.nodes),
    adapters: [chat],
    clock: new ManualClock(FIXTURE_NOW),
    logger: pino({ level: 'silent' }),
    owner: 'test',
  });
  const requests = 3 * DEFAULT_OUTBOX_CONCURRENCY;
  for (let i = 0; i < requests; i++) {
    const reply = await service.handle(commandEvent('dana', `i-0b0b0b0b0b0b0b0b1 burst ${i}`));
    expect(reply.kind).toBe('info');
  }

  let released = 0;
  const drained = outbox.idle();
  while (released < requests) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    released += chat.releaseAll();
  }
  await drained;

  expect(chat.maxInFlight).toBe(DEFAULT_OUTBOX_CONCURRENCY);
  expect(chat.posted).toHaveLength(requests);
  expect(await opened.store.listWithPendingEffects(10)).toEqual([]);
});
