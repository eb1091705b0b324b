import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { ADAPTERS } from '../../adapters';
import { DEMO_CONFIG_YAML } from '../../adapters/console/demo';
import { SlackAdapter } from '../../adapters/slack/slack-adapter';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { blockActionsBody, postSigned, SIGNING_SECRET, slashCommandBody } from '../adapters/slack/slack-requests';
import { CRASH_SLACK, ONE_LEVEL_NODE, startCrashSlack } from '../crash/crash-config';
import { FAKE_BOT_TOKEN, type FakeMessage, type FakeSlack } from '../support/fake-slack';

// Sustained load through the whole product: 200 slash commands at once, then 200 card clicks at once, signed as
// Slack signs them, against jitbot with the embedded store and the durable intake. Afterwards the audit chain holds
// every event exactly once, and `jitbot audit verify` (another process, while the server runs) says it is intact.

const COMMANDS = 200;

jest.setTimeout(180_000);

let dir: string;
let configPath: string;
let fake: FakeSlack;
let slack: SlackAdapter;
let running: RunningJitbot;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitbot-sustained-'));
  configPath = join(dir, 'jitbot.yaml');
  writeFileSync(configPath, `${DEMO_CONFIG_YAML}\nembedded: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
  fake = await startCrashSlack();
  const { config } = loadConfig({ path: configPath, env: {}, adapters: ADAPTERS });
  config.server.port = 0;
  config.roles['ops-approvers']!.channels.slack = CRASH_SLACK.approvals;
  config.roles['ops-approvers']!.members.push(`slack:${CRASH_SLACK.approver}`);
  config.identities.push({
    match: { platform: 'slack', userId: CRASH_SLACK.requester },
    principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
    groups: ['developers'],
  });
  slack = new SlackAdapter({ botToken: FAKE_BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
  running = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    adapters: [slack],
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
});

afterAll(async () => {
  await running?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const textOf = (message: FakeMessage): string => message.blocks?.[0]?.text?.text ?? message.text ?? '';

async function settled(): Promise<void> {
  await slack.idle();
  await running.outbox.idle();
}

test(`${COMMANDS} concurrent slash commands and ${COMMANDS} concurrent clicks: every event audited once, the chain intact`, async () => {
  const commandResponses = Array.from({ length: COMMANDS }, () => randomUUID());
  const commandAcks = await Promise.all(
    commandResponses.map((responseId, i) =>
      postSigned(
        running.url,
        slashCommandBody({
          text: `${ONE_LEVEL_NODE} sustained load ${i}`,
          userId: CRASH_SLACK.requester,
          channelId: CRASH_SLACK.requests,
          responseUrl: fake.responseUrl(responseId),
          triggerId: `trigger-command-${i}`,
        }),
      ),
    ),
  );
  expect(commandAcks.map((response) => response.status)).toEqual(commandAcks.map(() => 200));
  await settled();
  const requestIds = commandResponses.map((responseId) => {
    const answers = fake.responsesTo(responseId);
    expect(answers).toHaveLength(1);
    return /JIT-[0-9A-Z]{5}/.exec(String(answers[0]!.body.text))![0];
  });
  expect(new Set(requestIds).size).toBe(COMMANDS);

  const cards = requestIds.map(
    (id) => fake.channelMessages(CRASH_SLACK.approvals).find((m) => textOf(m).startsWith(id))!,
  );
  expect(cards.filter((card) => card === undefined)).toEqual([]);
  const clickResponses = cards.map(() => randomUUID());
  const clickAcks = await Promise.all(
    cards.map((card, i) =>
      postSigned(
        running.url,
        blockActionsBody({
          userId: CRASH_SLACK.approver,
          channelId: card.channel,
          messageTs: card.ts,
          action: 'approve',
          requestId: requestIds[i]!,
          responseUrl: fake.responseUrl(clickResponses[i]!),
          triggerId: `trigger-click-${i}`,
        }),
      ),
    ),
  );
  expect(clickAcks.map((response) => response.status)).toEqual(clickAcks.map(() => 200));
  await settled();
  for (const responseId of clickResponses)
    expect(fake.responsesTo(responseId).map((r) => r.body.text)).toEqual([
      expect.stringContaining('Recorded your approval'),
    ]);

  // Every request went through, once.
  const requests = await Promise.all(requestIds.map((id) => running.store.getRequest(id)));
  expect(requests.map((r) => r?.status)).toEqual(requestIds.map(() => 'active'));
  expect(await running.store.listUnprocessedInboundEvents(10)).toEqual([]);

  // Every event audited exactly once: one chain without gaps, and per request the same story, each once.
  const events = await running.store.listAudit({ limit: 100_000 });
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  const byRequest = new Map<string, string[]>();
  for (const event of events)
    if (event.requestId) byRequest.set(event.requestId, [...(byRequest.get(event.requestId) ?? []), event.action]);
  expect([...byRequest.keys()].sort()).toEqual([...requestIds].sort());
  for (const actions of byRequest.values()) {
    expect([...actions].sort()).toEqual(['grant.created', 'request.approved', 'request.created']);
  }
  const deliveries = events.flatMap((e) => (e.deliveryId ? [e.deliveryId] : []));
  expect(new Set(deliveries).size).toBe(deliveries.length);
  expect(deliveries).toHaveLength(2 * COMMANDS);

  // The admin CLI, in its own process while the server runs, verifies the chain.
  const cli = promisify(execFile);
  const verified = await cli(process.execPath, [
    'test/support/run-ts.js',
    'src/cli/main.ts',
    '--config',
    configPath,
    'audit',
    'verify',
  ]);
  expect(verified.stdout).toBe(`audit chain intact: ${events.length} events\n`);
});
