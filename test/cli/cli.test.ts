import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONFIG_YAML } from '../../adapters/console/demo';
import { ConfigError } from '../../src/config/load';
import { buildProgram, CliError } from '../../src/cli/program';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { ADAPTERS } from '../../adapters';
import { startJitbot } from '../../src/app';
import { loadConfig } from '../../src/config/load';

// The admin CLI, run in-process against a config file whose embedded store lives in a temp directory.

let dir: string;
let configPath: string;
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitbot-cli-'));
  configPath = join(dir, 'jitbot.yaml');
  writeFileSync(configPath, `${DEMO_CONFIG_YAML}\nembedded: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function jitbot(...args: string[]): Promise<string> {
  let out = '';
  const program = buildProgram({ env: {}, stdout: (text) => (out += text), now: () => NOW });
  await program.parseAsync(['node', 'jitbot', '--config', configPath, ...args]);
  return out;
}

test('config validate and schema', async () => {
  expect(await jitbot('config', 'validate')).toMatch(/OK — 4 policies, 2 roles, adapters: console, dry run/);
  const schema = JSON.parse(await jitbot('config', 'schema'));
  expect(Object.keys(schema.properties)).toEqual(
    expect.arrayContaining(['policies', 'roles', 'identities', 'adapters']),
  );
});

test('a broken config names the file and the key path', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, DEMO_CONFIG_YAML.replace('required: 1 }', 'required: 9 }'));
  const program = buildProgram({ env: {}, stdout: () => undefined, now: () => NOW });
  const run = program.parseAsync(['node', 'jitbot', '--config', bad, 'config', 'validate']);
  await expect(run).rejects.toThrow(ConfigError);
  await expect(run).rejects.toThrow(/bad\.yaml.*policies\[2\]\.levels\[0\]\.required/s);
});

test('config validate --offline checks examples/jitbot.yaml without its secrets (what CI runs)', async () => {
  const example = join(__dirname, '../../examples/jitbot.yaml');
  let out = '';
  const program = buildProgram({ env: {}, stdout: (text) => (out += text), now: () => NOW });
  await program.parseAsync(['node', 'jitbot', '--config', example, 'config', 'validate', '--offline']);
  expect(out).toBe(
    `${example}: OK — 5 policies, 3 roles, adapters: slack, feishu, dingtalk, offline (secrets not read)\n`,
  );

  const online = buildProgram({ env: {}, stdout: () => undefined, now: () => NOW });
  await expect(online.parseAsync(['node', 'jitbot', '--config', example, 'config', 'validate'])).rejects.toThrow(
    'environment variable SLACK_BOT_TOKEN is not set',
  );
});

test('config validate prints warnings and still passes', async () => {
  const warned = join(dir, 'warned.yaml');
  writeFileSync(
    warned,
    DEMO_CONFIG_YAML.replace('{ roles: [security-leads], required: 1 }', '{ users: ["console:dana"], required: 1 }'),
  );
  let out = '';
  const program = buildProgram({ env: {}, stdout: (text) => (out += text), now: () => NOW });
  await program.parseAsync(['node', 'jitbot', '--config', warned, 'config', 'validate']);
  expect(out.split('\n')).toEqual([
    expect.stringMatching(
      /^.*warned\.yaml: policies\[2\]\.levels\[1\]: warning: policy "production", level 2: a request from console:dana /,
    ),
    expect.stringMatching(
      /warned\.yaml: OK — 4 policies, 2 roles, adapters: console, dry run \(no AWS account\), 1 warning$/,
    ),
    '',
  ]);
});

test('start builds the adapters the config enables and prints what each has to say (the console its address)', async () => {
  const startable = join(dir, 'start.yaml');
  writeFileSync(startable, `${DEMO_CONFIG_YAML}\nserver: { port: 0 }\n`);
  let out = '';
  let stop: (() => Promise<void>) | undefined;
  const program = buildProgram({
    env: { LOG_LEVEL: 'silent' },
    stdout: (text) => (out += text),
    now: () => NOW,
    onServerStarted: (stopServer) => (stop = stopServer),
  });
  await program.parseAsync(['node', 'jitbot', '--config', startable, 'start', '--in-memory']);
  try {
    const url = /jitbot console: (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  } finally {
    await stop?.();
  }
});

test('channels map, list and unmap are stored and audited; the audit exports and verifies', async () => {
  expect(await jitbot('channels', 'map', 'C0OPS', 'ops-approvers', '-p', 'slack')).toBe(
    'slack C0OPS → ops-approvers\n',
  );
  const listed = await jitbot('channels', 'list');
  expect(listed).toContain('slack\tC0OPS\tops-approvers\truntime');
  expect(listed).toContain('console\tops-approvals\tops-approvers\tconfig');
  await jitbot('channels', 'unmap', 'ops-approvals', '-p', 'console');
  expect(await jitbot('channels', 'list')).not.toContain('ops-approvals');

  await expect(jitbot('channels', 'map', 'C1', 'nobody', '-p', 'slack')).rejects.toThrow(CliError);
  await expect(jitbot('channels', 'unmap', 'C404', '-p', 'slack')).rejects.toThrow(/not mapped/);

  const jsonl = (await jitbot('audit', 'export', '--since', '1d'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(jsonl.map((e) => e.action)).toEqual(['channel.mapped', 'channel.unmapped']);
  expect(jsonl[0]).toMatchObject({
    actor: 'cli',
    detail: { platform: 'slack', channelId: 'C0OPS', role: 'ops-approvers' },
  });
  const csv = await jitbot('audit', 'export', '--format', 'csv');
  expect(csv.split('\r\n')[0]).toBe('seq,at,actor,action,requestId,from,to,comment,deliveryId,detail,prevHash,hash');
  expect(csv).toContain('channel.unmapped');
  expect(await jitbot('audit', 'export', '--since', '2099-01-01')).toBe('');
  await expect(jitbot('audit', 'export', '--since', 'yesterday-ish')).rejects.toThrow(/neither a date/);
  expect(await jitbot('audit', 'verify')).toBe('audit chain intact: 2 events\n');
});

test('audit verify fails on a tampered event', async () => {
  const db = new Database(join(dir, 'data', 'jitbot.db'));
  try {
    db.prepare(`UPDATE audit SET data = json_set(data, '$.actor', 'someone-else') WHERE seq = 1`).run();
  } finally {
    db.close();
  }
  await expect(jitbot('audit', 'verify')).rejects.toThrow(/audit chain broken at event 1/);
});

test('audit verify, audit export and channels list work from another process while the server runs', async () => {
  const dataDir = join(dir, 'served');
  const served = join(dir, 'served.yaml');
  writeFileSync(
    served,
    `${DEMO_CONFIG_YAML}\nserver: { port: 0 }\nembedded: { dataDir: ${JSON.stringify(dataDir)} }\n`,
  );
  const { config } = loadConfig({ path: served, env: {}, adapters: ADAPTERS });
  const running = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
  try {
    await running.store.appendAudit({
      at: NOW,
      actor: 'console:alice',
      action: 'request.created',
      requestId: 'JIT-7K3Q2',
    });
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['test/support/run-ts.js', 'src/cli/main.ts', '--config', served, ...args]);

    expect((await cli('audit', 'verify')).stdout).toBe('audit chain intact: 1 events\n');
    expect((await cli('channels', 'map', 'C0OPS', 'ops-approvers', '-p', 'slack')).stdout).toBe(
      'slack C0OPS → ops-approvers\n',
    );
    expect((await cli('channels', 'list')).stdout).toContain('slack\tC0OPS\tops-approvers\truntime');
    // The server sees what the CLI wrote, and both append to one chain.
    expect(await running.store.listChannelMappings()).toEqual([expect.objectContaining({ channelId: 'C0OPS' })]);
    await running.store.appendAudit({
      at: NOW + 1,
      actor: 'console:bob',
      action: 'request.approved',
      requestId: 'JIT-7K3Q2',
    });
    const exported = (await cli('audit', 'export')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(exported.map((event) => [event.seq, event.action])).toEqual([
      [1, 'request.created'],
      [2, 'channel.mapped'],
      [3, 'request.approved'],
    ]);
    expect((await cli('audit', 'verify')).stdout).toBe('audit chain intact: 3 events\n');

    // A second server on the same data is refused with a clear message.
    await expect(cli('start')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^jitbot: another jitbot server is already running on \S+: the embedded store serves one server .*\n$/,
      ),
    });
  } finally {
    await running.stop();
  }
});

test('iam base-policy prints partition-correct documents; doctor explains dry run', async () => {
  const requesters = JSON.parse(await jitbot('iam', 'base-policy'));
  const text = JSON.stringify(requesters);
  expect(text).toContain('arn:aws-cn:ssm:');
  expect(text).not.toContain('arn:aws:');
  expect(text).not.toMatch(/"ssm:StartSession"[^}]*instance\//);
  const bot = JSON.stringify(JSON.parse(await jitbot('iam', 'base-policy', '--for', 'bot')));
  expect(bot).toContain('ssm:TerminateSession');
  expect(bot).not.toContain('arn:aws:');
  expect(await jitbot('doctor')).toMatch(/dry run/);
});
