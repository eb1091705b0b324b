import pino from 'pino';
import { assemble, type Assembled } from '../../src/app';
import { DryRunGranter } from '../../src/aws/dry-run-granter';
import type { JitbotConfig } from '../../src/config/types';
import type { Grant, JitRequest } from '../../src/core/model';
import { startHttpServer, type HttpMount } from '../../src/http/server';
import { StaticInventory } from '../../src/inventory/static-inventory';
import type { ChatAdapter } from '../../src/ports/chat';
import type { Store } from '../../src/ports/store';
import { openStore } from '../../src/store/open-store';

// One adapter in front of the real core (assemble from src/app.ts, an in-memory store, dry-run grants) and jitbot's
// HTTP server with the adapter mounted: what each adapter's core-flow test drives with its fake platform.

/** Dry-run grants, counted: how many the core really made. */
export class CountingGranter extends DryRunGranter {
  granted = 0;
  override async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    this.granted += 1;
    return super.grant(request, startsAt, expiresAt);
  }
}

export type AdapterUnderTest = ChatAdapter & HttpMount & { idle(): Promise<void> };

export interface CoreFlow {
  core: Assembled;
  granter: CountingGranter;
  store: Store;
  /** jitbot's HTTP server, with the adapter mounted. */
  url: string;
  /** Waits until the adapter has answered everything and the outbox has done what follows from it. */
  settle(): Promise<void>;
  /** Stops the adapter, lets the outbox finish, then closes the server and the store. */
  stop(): Promise<void>;
}

export async function startCoreFlow(options: {
  config: JitbotConfig;
  adapter: AdapterUnderTest;
  owner: string;
  /** Start the adapter with the core's durable intake (store first, then acknowledge), as src/app.ts does. */
  intake?: boolean;
}): Promise<CoreFlow> {
  const { config, adapter } = options;
  const opened = await openStore({ embedded: { inMemory: true } });
  const granter = new CountingGranter();
  const core = assemble({
    config,
    store: opened.store,
    granter,
    inventory: new StaticInventory(config.inventory.nodes),
    adapters: [adapter],
    clock: { now: () => Date.now() },
    logger: pino({ level: 'silent' }),
    owner: options.owner,
  });
  await adapter.start(core.service.handle, {
    locale: config.locale,
    ...(options.intake && { intake: core.service.intake }),
  });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [adapter] });
  return {
    core,
    granter,
    store: opened.store,
    url: server.url,
    async settle() {
      await adapter.idle();
      await core.outbox.idle();
    },
    async stop() {
      await adapter.stop();
      await core.outbox.idle();
      await server.close();
      await opened.close();
    },
  };
}
