import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type OpenedStore } from '../../src/store/open-store';
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

describe('openStore: embedded dynalite', () => {
  it('keeps data across close and reopen of the same directory', async () => {
    const dataDir = join(tempDir(), 'nested', 'dynamodb');
    const first = await openStore({ embedded: { dataDir } });
    expect(first.describe).toBe(`embedded DynamoDB (dynalite) at ${dataDir}`);
    const request = makeRequest({ reason: '重启 nginx ・ 再起動 🔁' });
    await first.store.createRequest(request);
    const event = await first.store.appendAudit({ at: FIXTURE_NOW, actor: 'console:alice', action: 'request.create' });
    await first.close();

    const second = await open({ embedded: { dataDir } });
    expect(await second.store.getRequest(request.id)).toEqual(request);
    expect(await second.store.listAudit()).toEqual([event]);
    expect(await second.store.listDue('pending', request.timeoutAt, 10)).toEqual([request]);
  });

  it('keeps nothing in memory mode', async () => {
    const first = await openStore({ embedded: { inMemory: true } });
    expect(first.describe).toBe('embedded DynamoDB (dynalite) in memory');
    await first.store.createRequest(makeRequest());
    await first.close();

    const second = await open({ embedded: { inMemory: true } });
    expect(await second.store.getRequest(makeRequest().id)).toBeUndefined();
  });

  it('refuses, without crashing, a directory another store is using', async () => {
    const dataDir = tempDir();
    const first = await open({ embedded: { dataDir } });
    await expect(openStore({ embedded: { dataDir } })).rejects.toThrow(/is another jitbot using it/);
    expect(await first.store.createRequest(makeRequest())).toBe(true);
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
    const { store, describe: where } = await open({ endpoint: motoEndpoint, region: 'cn-north-1', tableName, createTable: true });
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
    await expect(openStore({ endpoint: motoEndpoint, region: 'us-east-1', tableName, createTable: true })).rejects.toThrow(
      /does not have jitbot's layout: key schema .*index "due" is missing/,
    );
  });
});
