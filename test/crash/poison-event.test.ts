import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store';
import { REPLAY_ATTEMPTS_NAMESPACE } from '../../src/services/inbound-replay';
import { postSigned, slashCommandBody } from '../adapters/slack/slack-requests';
import type { FakeMessage, FakeSlack } from '../support/fake-slack';
import { CRASH_SLACK, startCrashSlack } from './crash-config';
import { startJitbotProcess, stopGracefully, type JitbotProcess } from './jitbot-process';

// A command whose processing kills jitbot (here: SIGKILL from inside, as a native crash or the OOM killer would) is
// stored before the ack, so every start replays it. A real process on the embedded store shows that the replay
// gives it up after three crashed attempts instead of crashing at every start forever, and that an event the
// outage made too old is dropped instead of being replayed at all.

const POISON_NODE = 'poison-host';
const HOUR = 3_600_000;

jest.setTimeout(120_000);

let fake: FakeSlack;
const dirs: string[] = [];
let alive: JitbotProcess | undefined;

beforeAll(async () => {
  fake = await startCrashSlack();
});

afterAll(async () => {
  if (alive) alive.child.kill('SIGKILL');
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const textOf = (message: FakeMessage): string => message.blocks?.[0]?.text?.text ?? message.text ?? '';
const toDana = () => fake.channelMessages(`D_${CRASH_SLACK.requester}`).map(textOf);

/** Sends the poison command to a fresh server; it is stored, then the process dies processing it. */
async function sendPoison(dataDir: string): Promise<void> {
  const jitbot = await startJitbotProcess(dataDir, fake.apiUrl, 0, POISON_NODE);
  const body = slashCommandBody({
    text: `${POISON_NODE} kills jitbot`,
    userId: CRASH_SLACK.requester,
    channelId: CRASH_SLACK.requests,
    responseUrl: fake.responseUrl(randomUUID()),
  });
  // Acknowledged or cut off, depending on whether the ack left before the crash: stored either way.
  await postSigned(jitbot.url, body).catch(() => undefined);
  expect(await jitbot.exited).toBe('SIGKILL');
}

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jitbot-poison-'));
  dirs.push(dir);
  return dir;
}

test('an event that kills jitbot at every replay is given up after 3 replays; the next start runs and tells the person', async () => {
  const dataDir = newDataDir();
  await sendPoison(dataDir);

  // Each start replays the stored event before it listens, and dies of it.
  for (let start = 1; start <= 3; start++) {
    await expect(startJitbotProcess(dataDir, fake.apiUrl, 0, POISON_NODE)).rejects.toThrow(/exited \(SIGKILL\)/);
  }

  alive = await startJitbotProcess(dataDir, fake.apiUrl, 0, POISON_NODE);
  const told = await fake.waitFor(
    () => toDana().find((text) => text.includes('could not process')),
    'the DM about the abandoned event',
    10_000,
  );
  expect(told).toContain(`“${POISON_NODE} kills jitbot”`);
  expect(told).toContain('it failed 3 times');
  await stopGracefully(alive);
  alive = undefined;

  const opened = await openStore({ embedded: { dataDir } });
  try {
    expect(await opened.store.listUnprocessedInboundEvents(10)).toEqual([]);
    expect(await opened.store.listRecords(REPLAY_ATTEMPTS_NAMESPACE, { limit: 10 })).toEqual([]);
    const audit = await opened.store.listAudit();
    expect(audit.map((e) => e.action)).toEqual(['inbound.abandoned']);
    expect(audit[0]!.detail).toMatchObject({ platform: 'slack', kind: 'command', attempts: 3 });
    expect(JSON.stringify(audit)).not.toContain('kills jitbot');
  } finally {
    await opened.close();
  }
});

test('an event older than the maximum replay age when jitbot comes back is dropped, not replayed', async () => {
  const dataDir = newDataDir();
  const before = toDana().length;
  await sendPoison(dataDir);

  // Back two hours later: the event is not run (it would kill this process too); the person is told.
  alive = await startJitbotProcess(dataDir, fake.apiUrl, 2 * HOUR, POISON_NODE);
  const told = await fake.waitFor(
    () =>
      toDana()
        .slice(before)
        .find((text) => text.includes('jitbot was unavailable')),
    'the DM about the dropped event',
    10_000,
  );
  expect(told).toContain('If you still mean it, send it again.');
  await stopGracefully(alive);
  alive = undefined;

  const opened = await openStore({ embedded: { dataDir } });
  try {
    expect(await opened.store.listUnprocessedInboundEvents(10)).toEqual([]);
    expect((await opened.store.listAudit()).map((e) => e.action)).toEqual(['inbound.expired']);
  } finally {
    await opened.close();
  }
});
