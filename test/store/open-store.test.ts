import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStore, type OpenedStore } from '../../src/store/open-store';
import { lockDataDirForServer } from '../../src/store/server-lock';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const motoEndpoint = process.env.MOTO_ENDPOINT;
if (!motoEndpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const opened: OpenedStore[] = [];
const tempDirs: string[] = [];
const savedEnv = { ...process.env };

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jitbot-store-'));
  tempDirs.push(dir);
  return dir;
}

async function open(options: Parameters<typeof openStore>[0]): Promise<OpenedStore> {
  const result = await openStore(options);
  opened.push(result);
  return result;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  process.env = { ...savedEnv };
});

describe('openStore: embedded SQLite', () => {
  it('keeps data in <dataDir>/jitbot.db across close and reopen', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = await openStore({ embedded: { dataDir } });
    expect(first.describe).toBe(`embedded SQLite at ${join(dataDir, 'jitbot.db')}`);
    expect(existsSync(join(dataDir, 'jitbot.db'))).toBe(true);
    const request = makeRequest({ reason: '重启 nginx ・ 再起動 🔁' });
    await first.store.createRequest(request);
    const event = await first.store.appendAudit({ at: FIXTURE_NOW, actor: 'console:alice', action: 'request.create' });
    const replicaId = first.replicaId;
    expect(replicaId).toMatch(/^embedded-[0-9A-Z]{26}$/);
    await first.close();

    const second = await open({ embedded: { dataDir } });
    expect(await second.store.getRequest(request.id)).toEqual(request);
    expect(await second.store.listAudit()).toEqual([event]);
    expect(await second.store.listDue('pending', request.timeoutAt, 10)).toEqual([request]);
    // The data directory keeps its replica id: a restarted server takes back its own leases at once.
    expect(second.replicaId).toBe(replicaId);
  });

  it('defaults to ./.jitbot/jitbot.db', async () => {
    const cwd = process.cwd();
    process.chdir(tempDir());
    try {
      const opened = await open({});
      expect(opened.describe).toBe(`embedded SQLite at ${join(process.cwd(), '.jitbot', 'jitbot.db')}`);
    } finally {
      process.chdir(cwd);
    }
  });

  it('keeps nothing in memory mode', async () => {
    const first = await openStore({ embedded: { inMemory: true } });
    expect(first.describe).toBe('embedded SQLite in memory');
    expect(first.replicaId).toBeUndefined();
    await first.store.createRequest(makeRequest());
    await first.close();

    const second = await open({ embedded: { inMemory: true } });
    expect(await second.store.getRequest(makeRequest().id)).toBeUndefined();
  });

  it('lets admin commands open the store while the server has it, and refuses a second server', async () => {
    const dataDir = tempDir();
    const server = await open({ embedded: { dataDir }, server: true });
    const admin = await open({ embedded: { dataDir } });
    await server.store.createRequest(makeRequest());
    await admin.store.putChannelMapping({
      platform: 'slack',
      channelId: 'C1',
      role: 'ops',
      mappedBy: 'cli',
      mappedAt: FIXTURE_NOW,
    });
    expect(await admin.store.getRequest(makeRequest().id)).toEqual(makeRequest());
    expect(await server.store.listChannelMappings()).toHaveLength(1);

    await expect(openStore({ embedded: { dataDir }, server: true })).rejects.toThrow(
      `another jitbot server is already running on ${dataDir}`,
    );
    await server.close();
    const next = await open({ embedded: { dataDir }, server: true });
    expect(await next.store.listChannelMappings()).toHaveLength(1);
  });

  it('keeps the server lock when its holder drops every reference to it (garbage collection does not release it)', async () => {
    const dataDir = tempDir();
    lockDataDirForServer(dataDir); // taken, and the result dropped at once (held until this worker exits)
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Collected and finalised: a collection, a turn of the event loop for the finaliser, and another collection.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    expect(() => lockDataDirForServer(dataDir)).toThrow(/already running/);
  });

  it('takes the server lock at once after the holder was killed with SIGKILL', async () => {
    const dataDir = tempDir();
    const child = spawn(
      process.execPath,
      ['test/support/run-ts.js', 'test/store/children/hold-server-lock.ts', dataDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await expect(openStore({ embedded: { dataDir }, server: true })).rejects.toThrow(/already running/);
    } finally {
      // Killed whatever happened above, so a failure cannot leave a process that keeps jest from exiting.
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const server = await open({ embedded: { dataDir }, server: true });
    expect(server.describe).toContain(dataDir);
  });

  it('says, in one line, that an old dynalite folder is no longer read', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'dynamodb'));
    writeFileSync(join(dataDir, 'dynamodb', 'CURRENT'), 'MANIFEST-000001\n');
    const opened = await open({ embedded: { dataDir } });
    expect(opened.notices).toEqual([
      `${join(dataDir, 'dynamodb')} holds data of the old embedded DynamoDB store (dynalite); it is no longer read (the embedded store is now ${join(dataDir, 'jitbot.db')}) and can be deleted`,
    ]);

    // A dataDir that was configured to point at the LevelDB folder itself.
    const levelDir = tempDir();
    writeFileSync(join(levelDir, 'CURRENT'), 'MANIFEST-000001\n');
    writeFileSync(join(levelDir, 'LOCK'), '');
    expect((await open({ embedded: { dataDir: levelDir } })).notices[0]).toMatch(
      /^\S+ holds data of the old embedded DynamoDB store \(dynalite\); it is no longer read/,
    );
    expect((await open({ embedded: { dataDir: tempDir() } })).notices).toEqual([]);
  });

  it('explains a file that is not a jitbot store', async () => {
    const dataDir = tempDir();
    writeFileSync(
      join(dataDir, 'jitbot.db'),
      'not a database, just text that is long enough to have a header '.repeat(20),
    );
    await expect(openStore({ embedded: { dataDir } })).rejects.toThrow(
      `cannot open the embedded store ${join(dataDir, 'jitbot.db')}`,
    );
  });
});

describe('openStore: configured DynamoDB endpoint (moto)', () => {
  const uniqueTable = () => `jitbot-open-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  });

  it('creates the table when asked and works against it', async () => {
    const tableName = uniqueTable();
    const { store, describe: where } = await open({
      endpoint: motoEndpoint,
      region: 'cn-north-1',
      tableName,
      createTable: true,
    });
    expect(where).toBe(`DynamoDB table "${tableName}" in cn-north-1 at ${motoEndpoint}`);
    expect(await store.createRequest(makeRequest())).toBe(true);

    // Opening again with createTable finds the existing table and leaves it as it is.
    const again = await open({ endpoint: motoEndpoint, region: 'cn-north-1', tableName, createTable: true });
    expect(await again.store.getRequest(makeRequest().id)).toEqual(makeRequest());
  });

  it('follows AWS_ENDPOINT_URL_DYNAMODB', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = motoEndpoint;
    const tableName = uniqueTable();
    const { store, describe: where } = await open({ region: 'us-east-1', tableName, createTable: true });
    expect(where).toBe(`DynamoDB table "${tableName}" in us-east-1 at ${motoEndpoint}`);
    expect(await store.claimDelivery('slack', 'Ev1', FIXTURE_NOW, 1000)).toBe(true);
  });

  it('does not create a missing table unless asked', async () => {
    await expect(openStore({ endpoint: motoEndpoint, region: 'us-east-1', tableName: uniqueTable() })).rejects.toThrow(
      /does not exist/,
    );
  });

  it('refuses a table that does not have jitbot’s layout', async () => {
    const tableName = uniqueTable();
    const client = new DynamoDBClient({ endpoint: motoEndpoint, region: 'us-east-1' });
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
    client.destroy();
    await expect(
      openStore({ endpoint: motoEndpoint, region: 'us-east-1', tableName, createTable: true }),
    ).rejects.toThrow(/does not have jitbot's layout: key schema .*index "due" is missing/);
  });
});
