import { GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GENESIS_HASH, verifyAuditChain } from '../../src/core/audit-chain';
import type { JitRequest } from '../../src/core/model';
import type { AuditInput, ChannelMapping } from '../../src/ports/store';
import type { DynamoStore } from '../../src/store/dynamo-store';
import { auditKey, requestKey } from '../../src/store/keys';
import { ATTR, INDEX } from '../../src/store/table';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

// One conformance suite for the DynamoDB store, run against every backend we support (dynalite, moto).

export interface StoreHarness {
  store: DynamoStore;
  /** The raw client the store uses, to inspect and tamper with items and to count reads. */
  client: DynamoDBClient;
  tableName: string;
  /** Closes the store and drops its table. */
  dispose(): Promise<void>;
}

/** Must return a store over a fresh, empty table each time. */
export type MakeStore = () => Promise<StoreHarness>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = FIXTURE_NOW;

export function describeStoreSuite(name: string, makeStore: MakeStore): void {
  describe(`DynamoStore on ${name}`, () => {
    let harness: StoreHarness;
    let store: DynamoStore;

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    /** Request items currently in an index partition, read straight from the index (not re-read). */
    async function indexEntries(indexName: string, partitionAttribute: string, partition: string): Promise<string[]> {
      const output = await harness.client.send(
        new QueryCommand({
          TableName: harness.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': partitionAttribute },
          ExpressionAttributeValues: { ':p': { S: partition } },
        }),
      );
      return (output.Items ?? []).map((item) => String(unmarshall(item).pk)).sort();
    }

    const activeRequest = (overrides: Partial<JitRequest> & { id: string; expiresAt: number }): JitRequest => {
      const { expiresAt, ...rest } = overrides;
      return makeRequest({
        status: 'active',
        currentLevel: 1,
        grant: { grantId: rest.id, startsAt: expiresAt - 2 * HOUR, expiresAt, dryRun: false, summary: 'PutUserPolicy' },
        ...rest,
      });
    };

    describe('requests', () => {
      it('round-trips a request, including Chinese, Japanese and emoji text', async () => {
        const requests = [
          makeRequest({ id: 'JIT-ZH001', reason: '修复 nginx 配置，线上 502 错误' }),
          makeRequest({ id: 'JIT-JA001', reason: 'nginx の設定を直す（本番で 502 エラー）' }),
          makeRequest({
            id: 'JIT-EM001',
            reason: 'fix 🔥 prod 🚒 — ünïcödé',
            decisions: [
              {
                by: { platform: 'slack', userId: 'U024BE7LH', displayName: '王芳' },
                roles: ['ops-approvers'],
                level: 0,
                verdict: 'approve',
                comment: 'よろしい 👍',
                at: T + MINUTE,
              },
            ],
            cards: [{ platform: 'slack', channelId: 'C123', messageId: '1700000000.000100' }],
            outbox: [{ id: 'e1', kind: 'threadReply', text: '✅ 王芳 approved (Level 1) — よろしい', attempts: 2 }],
            reminderIntervalMs: HOUR,
            nextReminderAt: T + HOUR,
          }),
        ];
        for (const request of requests) expect(await store.createRequest(request)).toBe(true);
        for (const request of requests) expect(await store.getRequest(request.id)).toEqual(request);
      });

      it('returns undefined for an unknown id', async () => {
        expect(await store.getRequest('JIT-NONE1')).toBeUndefined();
      });

      it('refuses to create a request whose id is taken, keeping the first', async () => {
        const first = makeRequest({ reason: 'first' });
        expect(await store.createRequest(first)).toBe(true);
        expect(await store.createRequest(makeRequest({ reason: 'second' }))).toBe(false);
        expect((await store.getRequest(first.id))?.reason).toBe('first');
      });

      it('saves a new version and refuses a stale one', async () => {
        const created = makeRequest();
        await store.createRequest(created);
        const approved: JitRequest = { ...created, status: 'approved', currentLevel: 1, version: 2, updatedAt: T + MINUTE };
        expect(await store.saveRequest(approved, 1)).toBe(true);
        expect(await store.getRequest(created.id)).toEqual(approved);

        const stale: JitRequest = { ...created, status: 'rejected', version: 2 };
        expect(await store.saveRequest(stale, 1)).toBe(false);
        expect(await store.getRequest(created.id)).toEqual(approved);
      });

      it('refuses to save a request that was never created', async () => {
        expect(await store.saveRequest(makeRequest({ id: 'JIT-GHOST', version: 2 }), 1)).toBe(false);
        expect(await store.getRequest('JIT-GHOST')).toBeUndefined();
      });

      it('throws when the new version is not expectedVersion + 1', async () => {
        const request = makeRequest();
        await store.createRequest(request);
        await expect(store.saveRequest({ ...request, version: 3 }, 1)).rejects.toThrow(/expectedVersion \+ 1/);
        await expect(store.saveRequest(request, 1)).rejects.toThrow(/expectedVersion \+ 1/);
      });

      it('lets exactly one of 20 concurrent saves with the same expected version win', async () => {
        const request = makeRequest();
        await store.createRequest(request);
        const attempts = Array.from({ length: 20 }, (_, i) => ({ ...request, version: 2, reason: `writer ${i}` }));
        const results = await Promise.all(attempts.map((attempt) => store.saveRequest(attempt, 1)));

        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = attempts[results.indexOf(true)];
        expect(await store.getRequest(request.id)).toEqual(winner);
      });

      it('lists a requester’s requests newest first, separately per platform', async () => {
        await store.createRequest(makeRequest({ id: 'JIT-A0001', createdAt: T }));
        await store.createRequest(makeRequest({ id: 'JIT-A0003', createdAt: T + 2 * HOUR }));
        await store.createRequest(makeRequest({ id: 'JIT-A0002', createdAt: T + HOUR }));
        const bob = makeRequest().requester;
        await store.createRequest(makeRequest({ id: 'JIT-B0001', requester: { ...bob, userId: 'bob' }, createdAt: T + 3 * HOUR }));
        await store.createRequest(
          makeRequest({ id: 'JIT-S0001', requester: { ...bob, platform: 'slack' }, createdAt: T + 4 * HOUR }),
        );

        const ids = async (limit: number) =>
          (await store.listRequestsByRequester('console', 'alice', limit)).map((request) => request.id);
        expect(await ids(10)).toEqual(['JIT-A0003', 'JIT-A0002', 'JIT-A0001']);
        expect(await ids(2)).toEqual(['JIT-A0003', 'JIT-A0002']);
        expect((await store.listRequestsByRequester('slack', 'alice', 10)).map((r) => r.id)).toEqual(['JIT-S0001']);
        expect(await store.listRequestsByRequester('teams', 'alice', 10)).toEqual([]);
      });

      it('lists recent requests across requesters newest first', async () => {
        const alice = makeRequest().requester;
        for (let i = 0; i < 5; i++) {
          await store.createRequest(
            makeRequest({ id: `JIT-R000${i}`, requester: { ...alice, userId: `user${i}` }, createdAt: T + i * MINUTE }),
          );
        }
        const recent = await store.listRecentRequests(3);
        expect(recent.map((request) => request.id)).toEqual(['JIT-R0004', 'JIT-R0003', 'JIT-R0002']);
        expect(recent[0]).toEqual(await store.getRequest('JIT-R0004'));
      });
    });

    describe('due index', () => {
      it('keeps pending and active requests apart, each due at its next deadline', async () => {
        const pending = makeRequest({ id: 'JIT-P0001', timeoutAt: T + 3 * HOUR, nextReminderAt: T + HOUR });
        const active = activeRequest({ id: 'JIT-C0001', expiresAt: T + 2 * HOUR });
        await store.createRequest(pending);
        await store.createRequest(active);

        expect(await store.listDue('pending', T + HOUR - 1, 10)).toEqual([]);
        expect(await store.listDue('pending', T + HOUR, 10)).toEqual([pending]);
        expect(await store.listDue('active', T + HOUR, 10)).toEqual([]);
        expect(await store.listDue('active', T + 2 * HOUR, 10)).toEqual([active]);
      });

      it('returns only what is due, soonest first, up to the limit', async () => {
        const timeouts = [5, 1, 9, 3, 7];
        for (const [i, hours] of timeouts.entries()) {
          await store.createRequest(makeRequest({ id: `JIT-D000${i}`, timeoutAt: T + hours * HOUR }));
        }
        const due = await store.listDue('pending', T + 5 * HOUR, 10);
        expect(due.map((request) => request.timeoutAt - T)).toEqual([1, 3, 5].map((h) => h * HOUR));
        expect((await store.listDue('pending', T + 5 * HOUR, 2)).map((r) => r.timeoutAt - T)).toEqual([HOUR, 3 * HOUR]);
      });

      it('moves a request between partitions and drops it once it is final', async () => {
        const pending = makeRequest({ timeoutAt: T + HOUR });
        await store.createRequest(pending);
        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#pending')).toEqual([requestKey(pending.id).pk]);

        const active: JitRequest = {
          ...pending,
          status: 'active',
          version: 2,
          grant: { grantId: pending.id, startsAt: T, expiresAt: T + 2 * HOUR, dryRun: false, summary: 'granted' },
        };
        expect(await store.saveRequest(active, 1)).toBe(true);
        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#pending')).toEqual([]);
        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#active')).toEqual([requestKey(pending.id).pk]);

        expect(await store.saveRequest({ ...active, status: 'ended', version: 3, endedAt: T + 2 * HOUR }, 2)).toBe(true);
        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#active')).toEqual([]);
        expect(await store.listDue('active', T + 100 * HOUR, 10)).toEqual([]);
      });

      it('re-reads each entry and drops those the index still lists but are no longer due', async () => {
        const request = makeRequest({ timeoutAt: T + HOUR });
        await store.createRequest(request);
        // Simulate a lagging index: the index attributes say "due now", the request itself is already final.
        const lagging = marshall(
          {
            pk: requestKey(request.id).pk,
            sk: requestKey(request.id).sk,
            version: 2,
            data: { ...request, status: 'cancelled', version: 2 },
            [ATTR.duePk]: 'DUE#pending',
            [ATTR.dueAt]: T,
          },
          { removeUndefinedValues: true },
        );
        await harness.client.send(new PutItemCommand({ TableName: harness.tableName, Item: lagging }));

        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#pending')).toHaveLength(1);
        expect(await store.listDue('pending', T + 10 * HOUR, 10)).toEqual([]);
      });

      it('reads only the due entries: 10 of 300 active requests', async () => {
        const requests = Array.from({ length: 300 }, (_, i) =>
          activeRequest({ id: `JIT-${String(i).padStart(5, '0')}`, expiresAt: T + (i < 10 ? i : 100 + i) * MINUTE }),
        );
        for (let start = 0; start < requests.length; start += 25) {
          await Promise.all(requests.slice(start, start + 25).map((request) => store.createRequest(request)));
        }
        const reads = countReads(harness.client);

        const due = await store.listDue('active', T + 10 * MINUTE, 100);

        expect(due.map((request) => request.id)).toEqual(requests.slice(0, 10).map((request) => request.id));
        expect(reads.queryScanned).toBe(10);
        expect(reads.batchGetKeys).toBe(10);
        reads.stop();
      });
    });

    describe('active requests, page by page', () => {
      it('pages through every active request exactly once and leaves out the rest', async () => {
        const active = Array.from({ length: 25 }, (_, i) =>
          activeRequest({ id: `JIT-A${String(i).padStart(4, '0')}`, expiresAt: T + (i + 1) * MINUTE }),
        );
        await Promise.all(active.map((request) => store.createRequest(request)));
        await store.createRequest(makeRequest({ id: 'JIT-P0001' }));
        await store.createRequest({ ...activeRequest({ id: 'JIT-E0001', expiresAt: T }), status: 'ended', endedAt: T });
        // A lagging index entry: the index still files it under active, the request itself has ended.
        const ended = activeRequest({ id: 'JIT-L0001', expiresAt: T + 12 * MINUTE });
        const lagging = marshall(
          {
            ...requestKey(ended.id),
            version: 2,
            data: { ...ended, status: 'ended', version: 2, endedAt: T },
            [ATTR.duePk]: 'DUE#active',
            [ATTR.dueAt]: ended.grant!.expiresAt,
          },
          { removeUndefinedValues: true },
        );
        await harness.client.send(new PutItemCommand({ TableName: harness.tableName, Item: lagging }));
        expect(await indexEntries(INDEX.due, ATTR.duePk, 'DUE#active')).toHaveLength(26);

        const pages: JitRequest[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listActivePage({ limit: 10, cursor });
          pages.push(page.requests);
          cursor = page.cursor;
        } while (cursor !== undefined && pages.length < 10);

        expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
        expect(pages.flat().map((request) => request.id)).toEqual(active.map((request) => request.id));
        expect(pages.flat()).toEqual(active);
      });

      it('refuses a cursor it did not make and a page size below one', async () => {
        await expect(store.listActivePage({ limit: 10, cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
        await expect(store.listActivePage({ limit: 0 })).rejects.toThrow(/limit/);
      });
    });

    describe('outbox index', () => {
      it('lists requests while they have pending effects, and only then', async () => {
        const withEffects = makeRequest({ id: 'JIT-O0001', outbox: [{ id: 'e1', kind: 'postCard' }] });
        await store.createRequest(withEffects);
        await store.createRequest(makeRequest({ id: 'JIT-O0002' }));

        expect(await store.listWithPendingEffects(10)).toEqual([withEffects]);
        expect(await indexEntries(INDEX.outbox, ATTR.outboxPk, 'OUTBOX')).toEqual([requestKey('JIT-O0001').pk]);

        expect(await store.saveRequest({ ...withEffects, outbox: [], version: 2 }, 1)).toBe(true);
        expect(await store.listWithPendingEffects(10)).toEqual([]);
        expect(await indexEntries(INDEX.outbox, ATTR.outboxPk, 'OUTBOX')).toEqual([]);
      });

      it('returns the longest-waiting requests first, up to the limit', async () => {
        for (const [i, minutes] of [30, 10, 20].entries()) {
          await store.createRequest(
            makeRequest({ id: `JIT-W000${i}`, updatedAt: T + minutes * MINUTE, outbox: [{ id: 'e', kind: 'grant' }] }),
          );
        }
        expect((await store.listWithPendingEffects(2)).map((request) => request.id)).toEqual(['JIT-W0001', 'JIT-W0002']);
      });
    });

    describe('delivery de-duplication', () => {
      it('a released delivery can be claimed again', async () => {
        expect(await store.claimDelivery('slack', 'EvRelease', T, 10 * MINUTE)).toBe(true);
        await store.releaseDelivery('slack', 'EvRelease');
        expect(await store.claimDelivery('slack', 'EvRelease', T + 1, 10 * MINUTE)).toBe(true);
        expect(await store.claimDelivery('slack', 'EvRelease', T + 2, 10 * MINUTE)).toBe(false);
        await store.releaseDelivery('slack', 'never-claimed');
      });

      it('claims a delivery once until it expires', async () => {
        expect(await store.claimDelivery('slack', 'Ev01', T, 10 * MINUTE)).toBe(true);
        expect(await store.claimDelivery('slack', 'Ev01', T + MINUTE, 10 * MINUTE)).toBe(false);
        expect(await store.claimDelivery('feishu', 'Ev01', T + MINUTE, 10 * MINUTE)).toBe(true);
        expect(await store.claimDelivery('slack', 'Ev01', T + 10 * MINUTE + 1, 10 * MINUTE)).toBe(true);
        expect(await store.claimDelivery('slack', 'Ev01', T + 11 * MINUTE, 10 * MINUTE)).toBe(false);
      });

      it('lets exactly one of 20 concurrent claims win', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.claimDelivery('teams', 'activity-42', T, MINUTE)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('channel mappings', () => {
      const mapping = (channelId: string, role: string, platform: ChannelMapping['platform'] = 'slack'): ChannelMapping => ({
        platform,
        channelId,
        role,
        mappedBy: 'slack:U024BE7LH',
        mappedAt: T,
      });
      const sortKey = (m: ChannelMapping) => `${m.platform}/${m.channelId}`;

      it('puts, replaces, lists and deletes mappings', async () => {
        expect(await store.listChannelMappings()).toEqual([]);
        await store.putChannelMapping(mapping('C1', 'ops-approvers'));
        await store.putChannelMapping(mapping('C2', 'db-approvers'));
        await store.putChannelMapping(mapping('C1', 'db-approvers', 'dingtalk'));
        await store.putChannelMapping(mapping('C2', 'sec-approvers'));

        const listed = (await store.listChannelMappings()).sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
        expect(listed).toEqual([
          mapping('C1', 'db-approvers', 'dingtalk'),
          mapping('C1', 'ops-approvers'),
          mapping('C2', 'sec-approvers'),
        ]);

        expect(await store.deleteChannelMapping('slack', 'C1')).toBe(true);
        expect(await store.deleteChannelMapping('slack', 'C1')).toBe(false);
        expect((await store.listChannelMappings()).map(sortKey).sort()).toEqual(['dingtalk/C1', 'slack/C2']);
      });
    });

    describe('audit log', () => {
      const input = (i: number): AuditInput => ({
        at: T + i * 1000,
        actor: i % 2 === 0 ? 'slack:U024BE7LH' : 'console:alice',
        action: 'request.approve',
        requestId: `JIT-${String(i).padStart(5, '0')}`,
        from: 'pending',
        to: 'approved',
        comment: i === 3 ? '同意 ✅ 承認します' : undefined,
        detail: { level: 1, tags: ['a', 'b'], nested: { z: 1, a: [1, 2] } },
      });

      it('chains the first event to the genesis hash', async () => {
        const first = await store.appendAudit(input(0));
        expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, action: 'request.approve' });
        const second = await store.appendAudit(input(1));
        expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
        expect(await store.listAudit()).toEqual([first, second]);
      });

      it('lists the newest events first when asked, up to the limit', async () => {
        for (let i = 0; i < 5; i++) await store.appendAudit(input(i));
        expect((await store.listAudit({ newestFirst: true, limit: 2 })).map((event) => event.seq)).toEqual([5, 4]);
        expect((await store.listAudit({ limit: 2 })).map((event) => event.seq)).toEqual([1, 2]);
      });

      it('keeps 50 concurrently appended events contiguous and verifiable', async () => {
        const appended = [];
        for (let batch = 0; batch < 5; batch++) {
          const inputs = Array.from({ length: 10 }, (_, i) => input(batch * 10 + i));
          appended.push(...(await Promise.all(inputs.map((event) => store.appendAudit(event)))));
        }
        const listed = await store.listAudit();

        expect(listed.map((event) => event.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(new Set(appended.map((event) => event.seq)).size).toBe(50);
        expect(listed).toEqual([...appended].sort((a, b) => a.seq - b.seq));
        expect(verifyAuditChain(listed)).toEqual({ ok: true, count: 50 });
      });

      it('detects a tampered event and names it', async () => {
        for (let i = 0; i < 30; i++) await store.appendAudit(input(i));
        const key = auditKey(20);
        const { Item } = await harness.client.send(new GetItemCommand({ TableName: harness.tableName, Key: marshall(key) }));
        const stored = unmarshall(Item!);
        stored.data.actor = 'console:mallory';
        await harness.client.send(new PutItemCommand({ TableName: harness.tableName, Item: marshall(stored) }));

        const verdict = verifyAuditChain(await store.listAudit());
        expect(verdict).toMatchObject({ ok: false, brokenAt: 20 });
      });

      it('lists events at or after an instant, oldest first, up to the limit', async () => {
        for (let i = 0; i < 12; i++) await store.appendAudit(input(i));
        // A late writer whose clock is behind: appended last, but stamped before `since`.
        await store.appendAudit({ ...input(0), at: T + 500 });
        const seqs = async (options: { since?: number; limit?: number }) =>
          (await store.listAudit(options)).map((event) => event.seq);

        expect(await seqs({ since: T + 9000 })).toEqual([10, 11, 12]);
        expect(await seqs({ since: T + 3000, limit: 2 })).toEqual([4, 5]);
        expect(await seqs({ since: T + 500 })).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        expect(await seqs({ limit: 2 })).toEqual([1, 2]);
        expect(await seqs({ since: T + 12_000 })).toEqual([]);
      });

      it('marks events for deletion after the retention period', async () => {
        const event = await store.appendAudit(input(0));
        const { Item } = await harness.client.send(
          new GetItemCommand({ TableName: harness.tableName, Key: marshall(auditKey(event.seq)) }),
        );
        expect(unmarshall(Item!)[ATTR.ttl]).toBe(Math.ceil(event.at / 1000) + 400 * 86_400);
      });
    });

    describe('leases', () => {
      it('is exclusive until it expires, re-entrant for its owner, released only by its owner', async () => {
        expect(await store.acquireLease('sweeper', 'replica-a', T, MINUTE)).toBe(true);
        expect(await store.acquireLease('sweeper', 'replica-b', T + 1000, MINUTE)).toBe(false);
        expect(await store.acquireLease('other-lease', 'replica-b', T + 1000, MINUTE)).toBe(true);

        // The owner renews: the lease now runs until T + 30 s + 1 min.
        expect(await store.acquireLease('sweeper', 'replica-a', T + 30_000, MINUTE)).toBe(true);
        expect(await store.acquireLease('sweeper', 'replica-b', T + MINUTE + 1000, MINUTE)).toBe(false);

        // Expired: someone else may take it, and the old owner's release does not free it.
        expect(await store.acquireLease('sweeper', 'replica-b', T + 2 * MINUTE, MINUTE)).toBe(true);
        await store.releaseLease('sweeper', 'replica-a');
        expect(await store.acquireLease('sweeper', 'replica-a', T + 2 * MINUTE + 1000, MINUTE)).toBe(false);

        await store.releaseLease('sweeper', 'replica-b');
        expect(await store.acquireLease('sweeper', 'replica-a', T + 2 * MINUTE + 2000, MINUTE)).toBe(true);
      });

      it('gives a contended lease to exactly one of 20 owners', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.acquireLease('iam#alice', `replica-${i}`, T, MINUTE)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}

interface ReadCounter {
  /** Sum of ScannedCount over Query calls (items the index/table read). */
  queryScanned: number;
  /** Keys requested through BatchGetItem. */
  batchGetKeys: number;
  stop(): void;
}

/** Counts the items read through a client from now on, via a middleware on its stack. */
function countReads(client: DynamoDBClient): ReadCounter {
  const name = `countReads-${Math.random()}`;
  const counter: ReadCounter = { queryScanned: 0, batchGetKeys: 0, stop: () => client.middlewareStack.remove(name) };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'QueryCommand') {
        counter.queryScanned += (result.output as { ScannedCount?: number }).ScannedCount ?? 0;
      }
      if (context.commandName === 'BatchGetItemCommand') {
        const requestItems = (args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> }).RequestItems ?? {};
        counter.batchGetKeys += Object.values(requestItems).reduce((sum, table) => sum + (table.Keys?.length ?? 0), 0);
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return counter;
}
