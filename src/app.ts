import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import { ADAPTERS } from '../adapters';
import { awsParts } from './wiring/aws';
import { DryRunGranter } from './aws/dry-run-granter';
import type { JitbotConfig } from './config/types';
import { formatRequestId } from './core/request-id';
import { startHttpServer, type HttpMount, type RunningHttpServer } from './http/server';
import { StaticInventory } from './inventory/static-inventory';
import type { AdapterDeps, AdapterModule, AdapterRecords } from './ports/adapter-module';
import type { ChatAdapter } from './ports/chat';
import { systemClock, type Clock } from './ports/clock';
import type { Granter } from './ports/granter';
import type { Inventory } from './ports/inventory';
import type { Store } from './ports/store';
import { adapterRecords } from './services/adapter-records';
import { AdapterRegistry } from './services/adapter-registry';
import { ChannelRoles } from './services/channel-roles';
import { JitService } from './services/jit-service';
import { OutboxWorker } from './services/outbox';
import { summarizeRequest } from './services/request-summary';
import { Scheduler } from './services/scheduler';
import { openStore, type OpenedStore, type OpenStoreOptions } from './store/open-store';

export interface StartOptions {
  config: JitbotConfig;
  logger: Logger;
  clock?: Clock;
  /** Overrides for tests and for the AWS wiring of later issues. */
  store?: Store;
  granter?: Granter;
  inventory?: Inventory;
  /** Extra adapters (beyond those enabled in the config). */
  adapters?: ChatAdapter[];
  /** The adapter modules the config was checked against (default: adapters/index.ts). */
  adapterModules?: readonly AdapterModule[];
  /** Periodic work; 0 disables the timer (tests drive sweeps by hand). */
  sweepIntervalMs?: number;
  recoveryIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Port override (0 = any free port). */
  port?: number;
}

export interface RunningJitbot {
  url: string;
  store: Store;
  service: JitService;
  outbox: OutboxWorker;
  scheduler: Scheduler;
  adapters: AdapterRegistry;
  storeDescription: string;
  stop(): Promise<void>;
}

/** How many recent requests and audit events an adapter's views list. */
const VIEW_LIST_LIMIT = 200;
const HOUR = 3_600_000;
/** An inbound event unprocessed for this long is taken to be lost by its replica and replayed. */
const INBOUND_REPLAY_GRACE_MS = 5 * 60_000;

/** Builds every part from the config, starts the HTTP server and the background loops. */
export async function startJitbot(options: StartOptions): Promise<RunningJitbot> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();

  const opened: OpenedStore = options.store
    ? { store: options.store, describe: 'provided store', notices: [], close: () => options.store!.close() }
    : await openStore({ ...storeOptions(config), server: true });
  const store = opened.store;
  for (const notice of opened.notices) logger.warn(notice);
  // A stable owner id lets this replica take back at once the leases its crashed predecessor held.
  const owner = config.server.replicaId ?? opened.replicaId ?? `jitbot-${ulid()}`;
  logger.info({ store: opened.describe, replica: owner }, 'store ready');

  const aws = config.aws.dryRun ? undefined : awsParts(config, { store, clock, logger, owner });
  const granter = options.granter ?? aws?.granter ?? new DryRunGranter();
  const inventory = options.inventory ?? aws?.inventory ?? new StaticInventory(config.inventory.nodes);
  logger.info(
    { partition: config.aws.partition, dryRun: granter.dryRun },
    granter.dryRun ? 'dry run: no AWS account configured' : 'AWS grants enabled',
  );
  const views = {
    listRequests: async () => (await store.listRecentRequests(VIEW_LIST_LIMIT)).map(summarizeRequest),
    listAudit: () => store.listAudit({ newestFirst: true, limit: VIEW_LIST_LIMIT }),
  };
  const configured = createAdapters(config, options.adapterModules ?? ADAPTERS, { logger, clock, views }, (name) =>
    adapterRecords(store, name),
  );
  const adapters: ChatAdapter[] = [...(options.adapters ?? []), ...configured];
  const mounts: HttpMount[] = adapters.filter(isHttpMount);

  const { registry, outbox, scheduler, service } = assemble({
    config,
    store,
    granter,
    inventory,
    adapters,
    clock,
    logger,
    owner,
  });

  let http: RunningHttpServer;
  try {
    for (const adapter of adapters)
      await adapter.start(service.handle, { locale: config.locale, intake: service.intake });
    http = await startHttpServer({
      host: config.server.host,
      port: options.port ?? config.server.port,
      mounts,
      logger,
    });
  } catch (error) {
    await Promise.all(adapters.map((a) => a.stop()));
    aws?.clients.destroy();
    await opened.close();
    throw error;
  }

  // Complete the effects a previous run left behind (a crash between a commit and its effects).
  await outbox.recover().catch((error: unknown) => logger.error({ err: error }, 'outbox recovery failed'));
  // Events a crash left acknowledged but unprocessed. The embedded store has one server process, so everything
  // received before this start was the previous run's; a shared table leaves the recent ones to their replica.
  const replayBefore = config.store.kind === 'embedded' ? startedAt : startedAt - INBOUND_REPLAY_GRACE_MS;
  await service
    .replayUnprocessed({ receivedBefore: replayBefore })
    .catch((error: unknown) => logger.error({ err: error }, 'replaying unprocessed inbound events failed'));
  const timers = [
    every(options.sweepIntervalMs ?? config.sweeper.intervalMs, () => scheduler.sweep(), logger, 'sweep'),
    every(options.recoveryIntervalMs ?? 5_000, () => outbox.recover(), logger, 'outbox recovery'),
    // An event stuck for long (its replica died and did not come back) is replayed by whoever is running.
    every(
      options.recoveryIntervalMs ?? 5_000,
      () => service.replayUnprocessed({ receivedBefore: clock.now() - INBOUND_REPLAY_GRACE_MS }),
      logger,
      'inbound replay',
    ),
  ];
  if (aws) {
    // Repair drift between IAM and the store now, then hourly.
    await aws.reconciler.run().catch((error: unknown) => logger.error({ err: error }, 'reconciliation failed'));
    timers.push(every(options.reconcileIntervalMs ?? HOUR, () => aws.reconciler.run(), logger, 'reconciliation'));
  }

  let stopped = false;
  return {
    url: http.url,
    store,
    service,
    outbox,
    scheduler,
    adapters: registry,
    storeDescription: opened.describe,
    async stop() {
      if (stopped) return;
      stopped = true;
      timers.forEach((timer) => timer && clearInterval(timer));
      // Effects already committed reach the chat (and the console's kept messages) before the adapters stop.
      await outbox.idle();
      await Promise.all(adapters.map((a) => a.stop()));
      await http.close();
      await outbox.idle();
      aws?.clients.destroy();
      await opened.close();
    },
  };
}

export interface AssembleDeps {
  config: JitbotConfig;
  store: Store;
  granter: Granter;
  inventory: Inventory;
  adapters: ChatAdapter[];
  clock: Clock;
  logger: Logger;
  /** Identifies this replica in leases. */
  owner: string;
}

export interface Assembled {
  registry: AdapterRegistry;
  channelRoles: ChannelRoles;
  outbox: OutboxWorker;
  scheduler: Scheduler;
  service: JitService;
}

/** Wires the core services to their ports. No I/O happens here; `startJitbot` adds HTTP and timers. */
export function assemble(deps: AssembleDeps): Assembled {
  const { config, store, granter, inventory, adapters, clock, logger, owner } = deps;
  const channelRoles = new ChannelRoles(store, config);
  const registry = new AdapterRegistry(
    adapters,
    { locale: config.locale, timeZone: config.timeZone, dryRun: granter.dryRun, cardTags: config.inventory.cardTags },
    logger,
    () => clock.now(),
    (request) => channelRoles.channelsFor(request.levels[request.currentLevel]?.roles ?? []),
  );
  const text = { locale: config.locale, timeZone: config.timeZone };
  const outbox = new OutboxWorker({
    store,
    granter,
    adapters: registry,
    channelRoles,
    clock,
    logger,
    owner,
    admins: config.admins,
    ...text,
  });
  const onCommitted = (id: string) => outbox.kick(id);
  const scheduler = new Scheduler({ store, clock, logger, owner, onCommitted, ...text });
  const service = new JitService({
    store,
    inventory,
    clock,
    access: config,
    channelRoles,
    adapters: registry,
    onCommitted,
    newRequestId: () => formatRequestId(randomBytes(5)),
    owner,
    logger,
    settings: {
      ...text,
      policies: config.policies,
      warnBeforeMs: config.timeouts.expiryWarningMs,
      deliveryDedupeMs: config.timeouts.deliveryDedupeMs,
      replayMaxAgeMs: config.timeouts.replayMaxAgeMs,
    },
  });

  return { registry, channelRoles, outbox, scheduler, service };
}

/** How the config chooses the store (embedded SQLite, or a DynamoDB table). */
export function storeOptions(config: JitbotConfig): OpenStoreOptions {
  const auditRetentionDays = config.audit.retentionDays;
  if (config.store.kind === 'embedded') {
    return { embedded: { inMemory: config.store.inMemory, dataDir: config.store.dataDir }, auditRetentionDays };
  }
  return {
    tableName: config.store.table,
    region: config.store.region,
    endpoint: config.store.endpoint,
    createTable: config.store.createTable,
    auditRetentionDays,
  };
}

/** Builds each adapter the config enables, from its module and its normalised settings. */
export function createAdapters(
  config: JitbotConfig,
  modules: readonly AdapterModule[],
  shared: Omit<AdapterDeps, 'approverChannels' | 'records'>,
  /** Each adapter's durable records (absent: adapters keep nothing across restarts). */
  recordsFor?: (adapterName: string) => AdapterRecords,
): ChatAdapter[] {
  const known = new Set<string>(modules.map((module) => module.name));
  const unknown = Object.keys(config.adapters).filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new Error(`the config enables adapters this jitbot does not have: ${unknown.join(', ')}`);
  return modules.flatMap((module) => {
    const settings = config.adapters[module.name];
    if (settings === undefined) return [];
    const approverChannels = Object.entries(config.roles).flatMap(([role, roleConfig]) => {
      const channelId = roleConfig.channels[module.name];
      return channelId === undefined ? [] : [{ role, channelId }];
    });
    return [
      module.create(settings, { ...shared, approverChannels, ...(recordsFor && { records: recordsFor(module.name) }) }),
    ];
  });
}

function isHttpMount(adapter: ChatAdapter): adapter is ChatAdapter & HttpMount {
  return typeof (adapter as Partial<HttpMount>).mount === 'function';
}

function every(ms: number, work: () => Promise<unknown>, logger: Logger, what: string): NodeJS.Timeout | undefined {
  if (ms <= 0) return undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    work()
      .catch((error: unknown) => logger.error({ err: error }, `${what} failed`))
      .finally(() => {
        busy = false;
      });
  }, ms);
  timer.unref();
  return timer;
}
