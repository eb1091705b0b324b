import pino, { type Logger } from 'pino';
import { assemble, type Assembled } from '../../src/app';
import { DryRunGranter } from '../../src/aws/dry-run-granter';
import { ADAPTERS } from '../../adapters';
import { DEMO_CONFIG_YAML } from '../../adapters/console/demo';
import { parseConfigText } from '../../src/config/load';
import type { JitbotConfig } from '../../src/config/types';
import type { MessageRef, UserRef } from '../../src/core/model';
import { StaticInventory } from '../../src/inventory/static-inventory';
import type { ActionEvent, CommandEvent, Reply } from '../../src/ports/chat';
import type { Granter } from '../../src/ports/granter';
import type { Inventory } from '../../src/ports/inventory';
import type { Store } from '../../src/ports/store';
import { openStore } from '../../src/store/open-store';
import { FIXTURE_NOW } from './fixtures';
import { ManualClock } from './manual-clock';
import { RecordingAdapter } from './recording-adapter';

/** The demo config plus twenty extra ops approvers (a1…a20) for race tests. */
export function testConfig(mutate?: (config: JitbotConfig) => void): JitbotConfig {
  const config = parseConfigText(DEMO_CONFIG_YAML, 'test', { env: {}, adapters: ADAPTERS });
  const extra = Array.from({ length: 20 }, (_, i) => `console:a${i + 1}`);
  config.roles['ops-approvers']!.members.push(...extra);
  mutate?.(config);
  return config;
}

export interface Harness extends Assembled {
  config: JitbotConfig;
  store: Store;
  chat: RecordingAdapter;
  clock: ManualClock;
  granter: Granter;
  inventory: Inventory;
  command(user: string, text: string, channel?: string): Promise<Reply>;
  click(
    user: string,
    requestId: string,
    action: ActionEvent['action'],
    options?: { channel?: string; comment?: string; deliveryId?: string; message?: MessageRef },
  ): Promise<Reply>;
  /** Runs every queued effect. */
  settle(): Promise<void>;
  /** The request id in a reply like "Submitted JIT-7K3Q2 …". */
  idIn(reply: Reply): string;
  close(): Promise<void>;
}

export const person = (userId: string): UserRef => ({
  platform: 'console',
  userId,
  displayName: userId[0]!.toUpperCase() + userId.slice(1),
});

let deliveries = 0;

/** `/jit …` typed by a console user, as the adapter would deliver it (a fresh delivery id unless given). */
export function commandEvent(
  user: string,
  text: string,
  options: { channel?: string; deliveryId?: string } = {},
): CommandEvent {
  return {
    kind: 'command',
    platform: 'console',
    deliveryId: options.deliveryId ?? `d${++deliveries}`,
    actor: person(user),
    channel: { platform: 'console', channelId: options.channel ?? 'requests' },
    text: text.replace(/^\/jit\s*/, ''),
  };
}

export async function startHarness(
  options: {
    config?: JitbotConfig;
    store?: Store;
    granter?: Granter;
    owner?: string;
    clock?: ManualClock;
    logger?: Logger;
  } = {},
): Promise<Harness> {
  const config = options.config ?? testConfig();
  const opened = options.store ? undefined : await openStore({ embedded: { inMemory: true } });
  const store = options.store ?? opened!.store;
  const clock = options.clock ?? new ManualClock(FIXTURE_NOW);
  const chat = new RecordingAdapter('console');
  const granter = options.granter ?? new DryRunGranter();
  const inventory = new StaticInventory(config.inventory.nodes);
  const assembled = assemble({
    config,
    store,
    granter,
    inventory,
    adapters: [chat],
    clock,
    logger: options.logger ?? pino({ level: 'silent' }),
    owner: options.owner ?? 'test',
  });
  await chat.start(assembled.service.handle, { locale: config.locale });
  const send = (event: CommandEvent | ActionEvent) => chat.send(event);
  return {
    ...assembled,
    config,
    store,
    chat,
    clock,
    granter,
    inventory,
    command: (user, text, channel) => send(commandEvent(user, text, { channel })),
    click: (user, requestId, action, { channel = 'ops-approvals', comment, deliveryId, message } = {}) =>
      send({
        kind: 'action',
        platform: 'console',
        deliveryId: deliveryId ?? `d${++deliveries}`,
        actor: person(user),
        channel: { platform: 'console', channelId: channel },
        action,
        requestId,
        comment,
        ...(message && { message }),
      }),
    settle: async () => {
      await assembled.outbox.idle();
      await assembled.outbox.recover();
      await assembled.outbox.idle();
    },
    idIn(reply) {
      const match = /JIT-[0-9A-Z]{5}/.exec(reply.text ?? '');
      if (!match) throw new Error(`no request id in reply: ${JSON.stringify(reply)}`);
      return match[0];
    },
    close: async () => {
      await assembled.outbox.idle();
      await opened?.close();
    },
  };
}
