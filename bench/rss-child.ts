import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failChild, serveParent } from './child-ipc';
import { systemClock } from '../src/ports/clock';
import { openStore } from '../src/store/open-store';
import { assembleBenchJitbot, requestCommand, requestIdIn } from './service-fixture';

// Run by bench/run.ts in a fresh process (node --expose-gc), so nothing the other rows allocated is counted:
// jitbot's service, outbox and embedded store in a temporary data directory, as `jitbot start` runs them;
// 10,000 requests submitted through the service with their cards posted; then the process's RSS after GC.

export interface RssReport {
  pending: number;
  seconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  store: string;
}

const PENDING = 10_000;
const CONCURRENCY = 16;

async function main(): Promise<RssReport> {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const dataDir = mkdtempSync(join(tmpdir(), 'jitbot-bench-rss-'));
  const opened = await openStore({ embedded: { dataDir } });
  try {
    const { service, outbox } = assembleBenchJitbot(opened.store, systemClock);
    const started = process.hrtime.bigint();
    let next = 0;
    let submitted = 0;
    const worker = async () => {
      while (next < PENDING) {
        const i = next++;
        const reply = await service.handle(requestCommand(`rss-${i}`, `memory benchmark ${i}`, i));
        if (reply.kind === 'info' && requestIdIn(reply.text)) submitted++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await outbox.idle();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (submitted !== PENDING)
      throw new Error(`benchmark check failed: ${submitted} of ${PENDING} requests were submitted`);
    const open = await opened.store.listWithPendingEffects(10);
    if (open.length > 0)
      throw new Error(`benchmark check failed: ${open.length} requests still have effects to perform`);

    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc');
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(100);
    }
    const memory = process.memoryUsage();
    return {
      pending: submitted,
      seconds,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      store: opened.describe,
    };
  } finally {
    await opened.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then((report) => serveParent(report, {}), failChild);
