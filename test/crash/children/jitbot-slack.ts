import pino from 'pino';
import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import { startJitbot } from '../../../src/app';
import { StaticInventory } from '../../../src/inventory/static-inventory';
import { FAKE_BOT_TOKEN } from '../../support/fake-slack';
import { SIGNING_SECRET } from '../../adapters/slack/slack-requests';
import { crashConfig } from '../crash-config';

// A real jitbot server in its own process, for crash tests: the embedded store in `dataDir`, dry-run grants, and
// a Slack adapter talking to the test's fake Slack. Prints `ready <url>` once it listens; SIGTERM stops it cleanly.
// usage: node test/support/run-ts.js test/crash/children/jitbot-slack.ts <dataDir> <slackApiUrl> [clockOffsetMs]
// With JITBOT_CRASH_POISON_NODE set, looking that node up kills the process (SIGKILL), as a native crash would.

async function main(): Promise<void> {
  const [dataDir, apiUrl, offset = '0'] = process.argv.slice(2);
  if (!dataDir || !apiUrl) throw new Error('usage: jitbot-slack.ts <dataDir> <slackApiUrl> [clockOffsetMs]');
  const clockOffsetMs = Number(offset);
  const slack = new SlackAdapter({ botToken: FAKE_BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl });
  const config = crashConfig(dataDir);
  const running = await startJitbot({
    config,
    inventory: dyingOn(process.env.JITBOT_CRASH_POISON_NODE, new StaticInventory(config.inventory.nodes)),
    logger: pino({ level: process.env.JITBOT_CRASH_LOG ?? 'silent' }, pino.destination(2)),
    clock: { now: () => Date.now() + clockOffsetMs },
    adapters: [slack],
    port: 0,
    sweepIntervalMs: SWEEP_INTERVAL_MS,
    recoveryIntervalMs: 1_000,
  });
  // The handler goes in before `ready`: the test may send SIGTERM the moment it reads that line.
  process.once('SIGTERM', () => {
    void running.stop().then(() => process.exit(0));
  });
  process.stdout.write(`ready ${running.url}\n`);
}

const SWEEP_INTERVAL_MS = 1_000;

function dyingOn(poisonNode: string | undefined, inventory: StaticInventory): StaticInventory {
  if (!poisonNode) return inventory;
  const resolve = inventory.resolve.bind(inventory);
  inventory.resolve = (query) => {
    if (query === poisonNode) process.kill(process.pid, 'SIGKILL');
    return resolve(query);
  };
  return inventory;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
