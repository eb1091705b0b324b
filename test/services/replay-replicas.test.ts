import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ActionEvent } from '../../src/ports/chat';
import type { Store } from '../../src/ports/store';
import { REPLAY_ATTEMPTS_NAMESPACE } from '../../src/services/inbound-replay';
import { DynamoStore } from '../../src/store/dynamo-store';
import { openStore } from '../../src/store/open-store';
import { ensureTable } from '../../src/store/table';
import { ManualClock } from '../support/manual-clock';
import { FIXTURE_NOW } from '../support/fixtures';
import { commandEvent, person, startHarness, type Harness } from '../support/harness';

// The replay's guards hold across replicas sharing one store, on SQLite and on DynamoDB (moto): a stale event is
// dropped, audited and told once however many replicas reach it at the same moment (its processed mark is a
// compare-and-set), and the replay attempts of an event are counted in the shared store, whoever makes them.

const endpoint = process.env.MOTO_ENDPOINT;
if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';
let tables = 0;

interface OpenedStore {
  store: Store;
  close(): Promise<void>;
}

async function openDynamo(): Promise<OpenedStore> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const tableName = `jitbot-replay-${process.pid}-${Date.now().toString(36)}-${++tables}`;
  await ensureTable(client, tableName);
  const store = new DynamoStore({ client, tableName });
  return {
    store,
    close: async () => {
      await store.close();
      await client.send(new DeleteTableCommand({ TableName: tableName }));
      client.destroy();
    },
  };
}

const stores: [name: string, open: () => Promise<OpenedStore>][] = [
  ['SQLite', () => openStore({ embedded: { inMemory: true } })],
  ['DynamoDB', openDynamo],
];

describe.each(stores)('replay across replicas on %s', (_name, open) => {
  let opened: OpenedStore;
  let store: Store;
  let clock: ManualClock;
  let replicas: Harness[];

  beforeEach(async () => {
    replicas = [];
    opened = await open();
    store = opened.store;
    clock = new ManualClock(FIXTURE_NOW);
  });

  afterEach(async () => {
    for (const replica of replicas) await replica.close();
    await opened.close();
  });

  async function replica(owner: string): Promise<Harness> {
    const started = await startHarness({ store, clock, owner });
    replicas.push(started);
    return started;
  }

  test('a stale click reached by two replicas at once is dropped, audited and told once, and never applied', async () => {
    // The same owner id on both (a replica and its restarted self): the replay lease does not keep them apart,
    // so only the compare-and-set on the processed mark does.
    const [a, b] = [await replica('replica-1'), await replica('replica-1')];
    const id = a.idIn(await a.command('dana', `/jit ${ONE_LEVEL_NODE} stale across replicas`));
    const click: ActionEvent = {
      kind: 'action',
      platform: 'console',
      deliveryId: 'stale-across-replicas',
      actor: person('alice'),
      channel: { platform: 'console', channelId: 'ops-approvals' },
      action: 'approve',
      requestId: id,
    };
    expect(await a.service.intake.receive(click)).toBe(true);
    clock.advance(HOUR);

    await Promise.all([a, b].map((r) => r.service.replayUnprocessed({ receivedBefore: clock.now() })));
    expect((await store.getRequest(id))!.decisions).toEqual([]);
    expect(await store.listUnprocessedInboundEvents(10)).toEqual([]);
    const expired = (await store.listAudit()).filter((e) => e.action === 'inbound.expired');
    expect(expired).toHaveLength(1);
    const told = [a, b].flatMap((r) => r.chat.dms.filter((dm) => dm.user.userId === 'alice'));
    expect(told).toHaveLength(1);
  });

  test('replay attempts are counted in the shared store, so replicas taking turns still give up after 3', async () => {
    const [a, b] = [await replica('replica-a'), await replica('replica-b')];
    const key = 'console#counted-across-replicas';
    await a.service.intake.receive(
      commandEvent('dana', `${ONE_LEVEL_NODE} crashes`, { deliveryId: 'counted-across-replicas' }),
    );
    // Three replays that never finished (their replicas died in them), the count written before each.
    for (const attempts of [1, 2, 3]) {
      const previous = await store.getRecord(REPLAY_ATTEMPTS_NAMESPACE, key);
      expect(
        await store.putRecord(REPLAY_ATTEMPTS_NAMESPACE, { key, value: { attempts } }, previous?.version ?? 0),
      ).toBe(true);
    }
    clock.advance(MINUTE);

    expect(await b.service.replayUnprocessed({ receivedBefore: clock.now() })).toBe(0);
    expect(await store.listRecentRequests(10)).toEqual([]);
    expect((await store.listAudit()).map((e) => e.action)).toEqual(['inbound.abandoned']);
    expect(await store.getRecord(REPLAY_ATTEMPTS_NAMESPACE, key)).toBeUndefined();
    expect(b.chat.dms.map((dm) => dm.text)).toEqual([expect.stringContaining('it failed 3 times')]);
    expect(await a.service.replayUnprocessed({ receivedBefore: clock.now() })).toBe(0);
    expect(a.chat.dms).toEqual([]);
  });
});
