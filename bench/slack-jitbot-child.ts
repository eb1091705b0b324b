import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { ADAPTERS } from '../adapters';
import type { SlackAdapter } from '../adapters/slack/slack-adapter';
import { startJitbot } from '../src/app';
import type { CommandEvent } from '../src/ports/chat';
import { failChild, serveParent } from './child-ipc';
import { benchConfig, REQUESTERS, requestIdIn, slackRequester } from './service-fixture';

// jitbot as `jitbot start` runs it with Slack in HTTP mode: its HTTP server, the Slack adapter, the service, the
// outbox (dry-run grants) and the embedded store in a temporary data directory. Logs at info, as the CLI does,
// into /dev/null. The Web API and response_urls are the fake Slack process.

export interface PreparedCard {
  requestId: string;
  channelId: string;
  ts: string;
}

async function main(): Promise<void> {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const dataDir = mkdtempSync(join(tmpdir(), 'jitbot-bench-slack-'));
  const slackSection = `
adapters:
  slack:
    enabled: true
    apiUrl: ${process.env.BENCH_SLACK_API_URL}
embedded:
  dataDir: ${JSON.stringify(dataDir)}
server:
  host: 127.0.0.1
  port: 0
`;
  const config = benchConfig(slackSection, {
    SLACK_BOT_TOKEN: process.env.BENCH_SLACK_BOT_TOKEN!,
    SLACK_SIGNING_SECRET: process.env.BENCH_SLACK_SIGNING_SECRET!,
  });
  const logger = pino({ level: 'info' }, pino.destination({ dest: process.env.BENCH_LOG ?? '/dev/null', sync: false }));
  const running = await startJitbot({ config, logger, adapterModules: ADAPTERS, port: 0 });
  const slack = running.adapters.require('slack') as SlackAdapter;
  let requests = 0;

  // Effects that failed wait for the outbox's periodic recovery pass; this waits for them too (at most a minute).
  const idle = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      await slack.idle();
      await running.outbox.idle();
      if ((await running.store.listWithPendingEffects(1)).length === 0 || Date.now() > deadline) return;
      await sleep(200);
      await running.outbox.recover();
    }
  };

  serveParent(
    { url: running.url },
    {
      /** `count` pending requests made by /jit commands of the requesters in turn, each with its card posted in C0APPROVALS. */
      prepare: async (count: number): Promise<PreparedCard[]> => {
        const cards: PreparedCard[] = [];
        for (let i = 0; i < count; i++) {
          const n = ++requests;
          const command: CommandEvent = {
            kind: 'command',
            platform: 'slack',
            deliveryId: `bench-command-${n}`,
            actor: { platform: 'slack', userId: slackRequester(n % REQUESTERS), displayName: `Dev ${n % REQUESTERS}` },
            channel: { platform: 'slack', channelId: 'C0REQUESTS' },
            text: `i-0b0b0b0b0b0b0b0b1 ack benchmark ${n}`,
          };
          const reply = await running.service.handle(command);
          const id = requestIdIn(reply.text);
          if (!id) throw new Error(`request ${n} was not submitted: ${reply.text}`);
          await running.outbox.idle();
          const card = (await running.store.getRequest(id))?.cards[0];
          if (!card) throw new Error(`request ${id} has no card`);
          cards.push({ requestId: id, channelId: card.channelId, ts: card.messageId });
        }
        return cards;
      },
      /** Waits until every click received so far has been handled, answered and its effects performed. */
      idle,
      /** How many of these requests are active (approved and granted), and what the others are. */
      active: async (ids: string[]) => {
        let active = 0;
        const others: string[] = [];
        for (const id of ids) {
          const request = await running.store.getRequest(id);
          if (request?.status === 'active') active++;
          else others.push(`${id} ${request?.status} outbox=${request?.outbox.map((e) => e.kind).join(',')}`);
        }
        return { active, others: others.slice(0, 3) };
      },
    },
    async () => {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
}

main().catch(failChild);
