import { verifyAuditChain } from '../../src/core/audit-chain';
import { GENESIS_HASH } from '../../src/core/audit-chain';
import type { JitRequest } from '../../src/core/model';
import type { ActionEvent, CommandEvent } from '../../src/ports/chat';
import type { AuditEvent, AuditInput, ChannelMapping, DueKind, Store } from '../../src/ports/store';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

// One conformance suite for the Store port, run against every store we ship: SQLite (test/store/sqlite.test.ts)
// and DynamoDB on moto_server (test/store/moto.test.ts). What only one back end can show lives in its runner.

export interface StoreHarness {
  store: Store;
  /** Another store instance on the same data (a second replica, or the CLI while the server runs). */
  openAnother(): Promise<Store>;
  /** Direct access to the stored data, for what the port does not offer: looking into indexes, tampering. */
  backdoor: StoreBackdoor;
  /** Closes the stores and drops their data. */
  dispose(): Promise<void>;
}

export interface StoreBackdoor {
  /** Ids of the requests the due index files under `kind`, straight from the index, sorted. */
  dueIndex(kind: DueKind): Promise<string[]>;
  /** Ids of the requests in the outbox index, straight from the index, sorted. */
  outboxIndex(): Promise<string[]>;
  /** Overwrites the stored audit event at position `seq` with `event`, behind the store's back. */
  writeAuditEvent(seq: number, event: AuditEvent): Promise<void>;
  deleteAuditEvent(seq: number): Promise<void>;
}

/** Must return a fresh, empty store each time. */
export type MakeStore = () => Promise<StoreHarness>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T = FIXTURE_NOW;

export function describeStoreSuite(name: string, makeStore: MakeStore): void {
  describe(`Store on ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.dispose();
    });

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
        const approved: JitRequest = {
          ...created,
          status: 'approved',
          currentLevel: 1,
          version: 2,
          updatedAt: T + MINUTE,
        };
        expect(await store.saveRequest(approved, 1)).toBe(true);
        expect(await store.getRequest(created.id)).toEqual(approved);

        const stale: JitRequest = { ...created, status: 'rejected', version: 2 };
        expect(await store.saveRequest(stale, 1)).toBe(false);
        expect(await store.getRequest(created.id)).toEqual(approved);
      });

      it('reads what another store instance (another process) wrote since this one last read or wrote the request', async () => {
        const created = makeRequest();
        await store.createRequest(created);
        expect(await store.getRequest(created.id)).toEqual(created);
        const other = await harness.openAnother();
        const fromOther = (await other.getRequest(created.id))!;
        const approved: JitRequest = {
          ...fromOther,
          status: 'approved',
          currentLevel: 1,
          version: 2,
          reason: 'changed elsewhere',
        };
        expect(await other.saveRequest(approved, 1)).toBe(true);

        expect(await store.getRequest(created.id)).toEqual(approved);
        // This instance's own stale write is refused, and it then reads the other's version again.
        expect(await store.saveRequest({ ...created, version: 2, reason: 'stale' }, 1)).toBe(false);
        expect(await store.getRequest(created.id)).toEqual(approved);
        const next: JitRequest = { ...approved, version: 3, reason: 'written here' };
        expect(await store.saveRequest(next, 2)).toBe(true);
        expect(await other.getRequest(created.id)).toEqual(next);
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
        await store.createRequest(
          makeRequest({ id: 'JIT-B0001', requester: { ...bob, userId: 'bob' }, createdAt: T + 3 * HOUR }),
        );
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
        expect(await harness.backdoor.dueIndex('pending')).toEqual([pending.id]);

        const active: JitRequest = {
          ...pending,
          status: 'active',
          version: 2,
          grant: { grantId: pending.id, startsAt: T, expiresAt: T + 2 * HOUR, dryRun: false, summary: 'granted' },
        };
        expect(await store.saveRequest(active, 1)).toBe(true);
        expect(await harness.backdoor.dueIndex('pending')).toEqual([]);
        expect(await harness.backdoor.dueIndex('active')).toEqual([pending.id]);

        expect(await store.saveRequest({ ...active, status: 'ended', version: 3, endedAt: T + 2 * HOUR }, 2)).toBe(
          true,
        );
        expect(await harness.backdoor.dueIndex('active')).toEqual([]);
        expect(await store.listDue('active', T + 100 * HOUR, 10)).toEqual([]);
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
        expect(await harness.backdoor.dueIndex('active')).toHaveLength(25);

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
        expect(await harness.backdoor.outboxIndex()).toEqual(['JIT-O0001']);

        expect(await store.saveRequest({ ...withEffects, outbox: [], version: 2 }, 1)).toBe(true);
        expect(await store.listWithPendingEffects(10)).toEqual([]);
        expect(await harness.backdoor.outboxIndex()).toEqual([]);
      });

      it('returns the longest-waiting requests first, up to the limit', async () => {
        for (const [i, minutes] of [30, 10, 20].entries()) {
          await store.createRequest(
            makeRequest({ id: `JIT-W000${i}`, updatedAt: T + minutes * MINUTE, outbox: [{ id: 'e', kind: 'grant' }] }),
          );
        }
        expect((await store.listWithPendingEffects(2)).map((request) => request.id)).toEqual([
          'JIT-W0001',
          'JIT-W0002',
        ]);
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
      const mapping = (
        channelId: string,
        role: string,
        platform: ChannelMapping['platform'] = 'slack',
      ): ChannelMapping => ({
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
      const appendMany = async (count: number, target: Store = store) => {
        const events: AuditEvent[] = [];
        for (let i = 0; i < count; i++) events.push(await target.appendAudit(input(i)));
        return events;
      };
      /** What `jitbot audit verify` checks: anchors read before the events. */
      const verify = async () => {
        const anchors = await store.getAuditAnchors();
        return verifyAuditChain(await store.listAudit(), anchors);
      };

      it('chains the first event to the genesis hash and names the newest in the head record', async () => {
        expect(await store.getAuditAnchors()).toEqual({});
        const first = await store.appendAudit(input(0));
        expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, action: 'request.approve' });
        const second = await store.appendAudit(input(1));
        expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
        expect(await store.listAudit()).toEqual([first, second]);
        expect(await store.getAuditAnchors()).toEqual({ head: { seq: 2, hash: second.hash } });
        expect(await verify()).toEqual({ ok: true, count: 2 });
      });

      it('lists the newest events first when asked, up to the limit', async () => {
        await appendMany(5);
        expect((await store.listAudit({ newestFirst: true, limit: 2 })).map((event) => event.seq)).toEqual([5, 4]);
        expect((await store.listAudit({ limit: 2 })).map((event) => event.seq)).toEqual([1, 2]);
      });

      it('lists events at or after an instant, oldest first, up to the limit', async () => {
        await appendMany(12);
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

      it('keeps 300 concurrent appends from two store instances: every event once, contiguous, verifiable', async () => {
        const other = await harness.openAnother();
        const inputs = Array.from({ length: 300 }, (_, i) => ({ ...input(i), detail: { nonce: `n${i}` } }));
        // Two replicas (or the server and the CLI) appending at once, each with many appends in flight.
        const appended = await Promise.all(inputs.map((event, i) => (i % 3 === 0 ? other : store).appendAudit(event)));

        const listed = await store.listAudit();
        expect(listed.map((event) => event.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
        expect(listed.map((event) => event.detail?.nonce).sort()).toEqual(
          inputs.map((event) => event.detail.nonce).sort(),
        );
        expect(listed).toEqual([...appended].sort((a, b) => a.seq - b.seq));
        expect(await verify()).toEqual({ ok: true, count: 300 });
        // The other instance chains on after all of that.
        const next = await other.appendAudit(input(300));
        expect(next).toMatchObject({ seq: 301, prevHash: listed[299]!.hash });
      });

      describe('verification catches tampering', () => {
        beforeEach(async () => {
          await appendMany(10);
        });

        it('an edited event, named by its seq', async () => {
          const [seventh] = await store.listAudit({ since: input(6).at, limit: 1 });
          await harness.backdoor.writeAuditEvent(7, { ...seventh!, actor: 'console:mallory' });
          expect(await verify()).toMatchObject({ ok: false, brokenAt: 7, reason: expect.stringMatching(/content/) });
        });

        it('a deleted event in the middle', async () => {
          await harness.backdoor.deleteAuditEvent(4);
          expect(await verify()).toMatchObject({
            ok: false,
            brokenAt: 5,
            reason: expect.stringMatching(/expected seq 4/),
          });
        });

        it('a deleted newest event (the head record names it)', async () => {
          await harness.backdoor.deleteAuditEvent(10);
          expect(await verify()).toMatchObject({
            ok: false,
            brokenAt: 10,
            reason: expect.stringMatching(/event 10 is missing/),
          });
        });

        it('deleted oldest events that retention did not prune', async () => {
          await harness.backdoor.deleteAuditEvent(1);
          await harness.backdoor.deleteAuditEvent(2);
          expect(await verify()).toMatchObject({
            ok: false,
            brokenAt: 1,
            reason: expect.stringMatching(/events 1–2 are missing/),
          });
        });

        it('a swapped pair', async () => {
          const events = await store.listAudit();
          await harness.backdoor.writeAuditEvent(5, events[5]!);
          await harness.backdoor.writeAuditEvent(6, events[4]!);
          expect(await verify()).toMatchObject({ ok: false, brokenAt: 6 });
        });
      });

      describe('retention', () => {
        const RETENTION = 400 * DAY;

        it('prunes the expired oldest events after recording the pruning point; the rest still verifies', async () => {
          const events = await appendMany(10);
          // Events 1–6 (at T … T + 5 s) are past the 400-day retention.
          expect(await store.pruneAudit(T + RETENTION + 5_500)).toBe(6);
          expect((await store.listAudit()).map((event) => event.seq)).toEqual([7, 8, 9, 10]);
          expect(await store.getAuditAnchors()).toEqual({
            head: { seq: 10, hash: events[9]!.hash },
            pruned: { seq: 6, hash: events[5]!.hash, at: events[5]!.at },
          });
          expect(await verify()).toEqual({ ok: true, count: 4 });
          expect(await store.pruneAudit(T + RETENTION + 5_500)).toBe(0);

          // Deleting the oldest retained event is still caught.
          await harness.backdoor.deleteAuditEvent(7);
          expect(await verify()).toMatchObject({
            ok: false,
            brokenAt: 7,
            reason: expect.stringMatching(/right after the pruning point/),
          });
        });

        it('stops at the first event that is not expired, even if older ones follow (writers’ clocks differ)', async () => {
          await store.appendAudit(input(0));
          await store.appendAudit({ ...input(1), at: T + 10 * DAY });
          await store.appendAudit(input(2));
          expect(await store.pruneAudit(T + RETENTION + 5_000)).toBe(1);
          expect((await store.listAudit()).map((event) => event.seq)).toEqual([2, 3]);
          expect(await verify()).toEqual({ ok: true, count: 2 });
        });

        it('can prune everything and go on from the head', async () => {
          const events = await appendMany(130);
          expect(await store.pruneAudit(T + RETENTION + DAY)).toBe(130);
          expect(await store.listAudit()).toEqual([]);
          expect(await verify()).toEqual({ ok: true, count: 0 });

          const next = await store.appendAudit(input(200));
          expect(next).toMatchObject({ seq: 131, prevHash: events[129]!.hash });
          expect(await verify()).toEqual({ ok: true, count: 1 });
        });
      });
    });

    describe('durable inbound events', () => {
      const click = (deliveryId: string, overrides: Partial<ActionEvent> = {}): ActionEvent => ({
        kind: 'action',
        platform: 'slack',
        deliveryId,
        actor: { platform: 'slack', userId: 'U024BE7LH', displayName: '王芳' },
        channel: { platform: 'slack', channelId: 'C0OPS' },
        action: 'approve',
        requestId: 'JIT-7K3Q2',
        comment: 'よろしい 👍',
        message: { platform: 'slack', channelId: 'C0OPS', messageId: '1700000000.000100' },
        ...overrides,
      });
      const command = (deliveryId: string): CommandEvent => ({
        kind: 'command',
        platform: 'console',
        deliveryId,
        actor: { platform: 'console', userId: 'alice', displayName: 'Alice' },
        channel: { platform: 'console', channelId: 'requests' },
        text: 'request web-1 2h 修复 nginx',
      });

      it('keeps an event until it is marked processed, oldest first', async () => {
        expect(await store.recordInboundEvent(click('Ev2'), T + 2, 10 * MINUTE)).toBe(true);
        expect(await store.recordInboundEvent(command('cmd-1'), T + 1, 10 * MINUTE)).toBe(true);
        expect(await store.recordInboundEvent(click('Ev3'), T + 3, 10 * MINUTE)).toBe(true);

        expect(await store.listUnprocessedInboundEvents(10)).toEqual([
          { event: command('cmd-1'), receivedAt: T + 1 },
          { event: click('Ev2'), receivedAt: T + 2 },
          { event: click('Ev3'), receivedAt: T + 3 },
        ]);
        expect(await store.listUnprocessedInboundEvents(2)).toHaveLength(2);

        expect(await store.markInboundEventProcessed('slack', 'Ev2')).toBe(true);
        expect(await store.markInboundEventProcessed('slack', 'Ev2')).toBe(false);
        expect(await store.markInboundEventProcessed('slack', 'never-recorded')).toBe(false);
        expect((await store.listUnprocessedInboundEvents(10)).map((stored) => stored.event.deliveryId)).toEqual([
          'cmd-1',
          'Ev3',
        ]);
      });

      it('is the delivery claim: a redelivery is refused until the record expires, and never while unprocessed', async () => {
        expect(await store.recordInboundEvent(click('Ev1'), T, 10 * MINUTE)).toBe(true);
        expect(await store.recordInboundEvent(click('Ev1'), T + MINUTE, 10 * MINUTE)).toBe(false);
        expect(await store.claimDelivery('slack', 'Ev1', T + MINUTE, 10 * MINUTE)).toBe(false);
        expect(await store.recordInboundEvent(click('Ev1', { platform: 'teams' }), T + MINUTE, 10 * MINUTE)).toBe(true);

        // Expired but not processed: it waits for its replay and is not replaced.
        expect(await store.recordInboundEvent(click('Ev1', { comment: 'second' }), T + HOUR, 10 * MINUTE)).toBe(false);
        expect(await store.claimDelivery('slack', 'Ev1', T + HOUR, 10 * MINUTE)).toBe(false);
        expect((await store.listUnprocessedInboundEvents(10))[0]?.event).toEqual(click('Ev1'));

        // Processed: de-duplicates until it expires, then the id may be used again.
        expect(await store.markInboundEventProcessed('slack', 'Ev1')).toBe(true);
        expect(await store.recordInboundEvent(click('Ev1'), T + 5 * MINUTE, 10 * MINUTE)).toBe(false);
        expect(await store.recordInboundEvent(click('Ev1', { comment: 'again' }), T + HOUR, 10 * MINUTE)).toBe(true);
        expect((await store.listUnprocessedInboundEvents(10)).map((stored) => stored.event)).toContainEqual(
          click('Ev1', { comment: 'again' }),
        );
      });

      it('shares de-duplication with claimDelivery, and releaseDelivery forgets either', async () => {
        expect(await store.claimDelivery('slack', 'Ev9', T, 10 * MINUTE)).toBe(true);
        expect(await store.recordInboundEvent(click('Ev9'), T + 1, 10 * MINUTE)).toBe(false);
        await store.releaseDelivery('slack', 'Ev9');
        expect(await store.recordInboundEvent(click('Ev9'), T + 2, 10 * MINUTE)).toBe(true);
        await store.releaseDelivery('slack', 'Ev9');
        expect(await store.listUnprocessedInboundEvents(10)).toEqual([]);
        expect(await store.claimDelivery('slack', 'Ev9', T + 3, 10 * MINUTE)).toBe(true);
      });

      it('lets exactly one of 20 concurrent recordings of one delivery win, across two store instances', async () => {
        const other = await harness.openAnother();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? other : store).recordInboundEvent(click('Ev-race', { comment: `try ${i}` }), T, MINUTE),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.listUnprocessedInboundEvents(10)).toHaveLength(1);
      });

      it('refuses an event without a delivery id', async () => {
        await expect(store.recordInboundEvent(click(''), T, MINUTE)).rejects.toThrow(/deliveryId/);
      });
    });

    describe('durable records', () => {
      it('puts, gets, replaces and deletes JSON records, counting versions', async () => {
        const value = {
          channel: 'requests',
          text: '批准 ✅ 承認',
          card: { buttons: ['approve', 'reject'], n: 1.5, none: null },
        };
        expect(await store.getRecord('console:messages', 'm1')).toBeUndefined();
        expect(await store.putRecord('console:messages', { key: 'm1', value, order: T })).toBe(true);
        expect(await store.getRecord('console:messages', 'm1')).toEqual({ key: 'm1', value, order: T, version: 1 });

        expect(await store.putRecord('console:messages', { key: 'm1', value: 'replaced' })).toBe(true);
        expect(await store.getRecord('console:messages', 'm1')).toEqual({ key: 'm1', value: 'replaced', version: 2 });
        expect(await store.getRecord('console:threads', 'm1')).toBeUndefined();

        expect(await store.deleteRecord('console:messages', 'm1')).toBe(true);
        expect(await store.deleteRecord('console:messages', 'm1')).toBe(false);
        expect(await store.getRecord('console:messages', 'm1')).toBeUndefined();
      });

      it('compare-and-set: 0 creates only when absent, n replaces only version n', async () => {
        expect(await store.putRecord('ns', { key: 'k', value: 1 }, 0)).toBe(true);
        expect(await store.putRecord('ns', { key: 'k', value: 2 }, 0)).toBe(false);
        expect(await store.putRecord('ns', { key: 'k', value: 3 }, 2)).toBe(false);
        expect(await store.putRecord('ns', { key: 'k', value: 4 }, 1)).toBe(true);
        expect(await store.putRecord('ns', { key: 'missing', value: 5 }, 1)).toBe(false);
        expect(await store.getRecord('ns', 'k')).toEqual({ key: 'k', value: 4, version: 2 });
        await expect(store.putRecord('ns', { key: 'k', value: 6 }, -1)).rejects.toThrow(/expectedVersion/);
      });

      it('lets exactly one of 20 concurrent compare-and-set writes win', async () => {
        await store.putRecord('ns', { key: 'k', value: 0 });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.putRecord('ns', { key: 'k', value: i + 1 }, 1)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await store.getRecord('ns', 'k'))?.version).toBe(2);
      });

      it('lists a namespace by key, or by order (only records that have one), either way round, up to the limit', async () => {
        await store.putRecord('thread:C1', { key: 'b', value: 'second', order: T + 2 });
        await store.putRecord('thread:C1', { key: 'a', value: 'third', order: T + 3 });
        await store.putRecord('thread:C1', { key: 'c', value: 'first', order: T + 1 });
        await store.putRecord('thread:C1', { key: 'd', value: 'unordered' });
        await store.putRecord('thread:C10', { key: 'x', value: 'other namespace', order: T });

        const keys = async (options: { limit: number; by?: 'key' | 'order'; newestFirst?: boolean }) =>
          (await store.listRecords('thread:C1', options)).map((record) => record.key);
        expect(await keys({ limit: 10 })).toEqual(['a', 'b', 'c', 'd']);
        expect(await keys({ limit: 2, newestFirst: true })).toEqual(['d', 'c']);
        expect(await keys({ limit: 10, by: 'order' })).toEqual(['c', 'b', 'a']);
        expect(await keys({ limit: 2, by: 'order', newestFirst: true })).toEqual(['a', 'b']);
        expect((await store.listRecords('thread:C1', { limit: 1, by: 'order' }))[0]).toEqual({
          key: 'c',
          value: 'first',
          order: T + 1,
          version: 1,
        });

        // Dropping the order takes a record out of the ordered list.
        await store.putRecord('thread:C1', { key: 'a', value: 'third, unordered now' });
        expect(await keys({ limit: 10, by: 'order' })).toEqual(['c', 'b']);
        expect(await store.listRecords('nobody', { limit: 10 })).toEqual([]);
      });

      it('refuses what it cannot keep', async () => {
        await expect(store.putRecord('', { key: 'k', value: 1 })).rejects.toThrow(/namespace/);
        await expect(store.putRecord('ns', { key: '', value: 1 })).rejects.toThrow(/key/);
        await expect(store.putRecord('ns', { key: 'k', value: undefined })).rejects.toThrow(/JSON/);
        await expect(store.putRecord('ns', { key: 'k', value: 1, order: Number.NaN })).rejects.toThrow(/order/);
        await expect(store.listRecords('', { limit: 1 })).rejects.toThrow(/namespace/);
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

      it('gives a contended lease to exactly one of 20 owners on two store instances', async () => {
        const other = await harness.openAnother();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? other : store).acquireLease('iam#alice', `replica-${i}`, T, MINUTE),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('goes back at once to a restarted holder that kept its owner id, and to no one else', async () => {
        expect(await store.acquireLease('outbox#JIT-7K3Q2', 'replica-a', T, 15_000)).toBe(true);
        // replica-a crashed without releasing; its next incarnation opens the store again.
        const restarted = await harness.openAnother();
        expect(await restarted.acquireLease('outbox#JIT-7K3Q2', 'replica-b', T + 1000, 15_000)).toBe(false);
        expect(await restarted.acquireLease('outbox#JIT-7K3Q2', 'replica-a', T + 1000, 15_000)).toBe(true);
        expect(await restarted.acquireLease('outbox#JIT-7K3Q2', 'replica-b', T + 15_500, 15_000)).toBe(false);
        expect(await restarted.acquireLease('outbox#JIT-7K3Q2', 'replica-b', T + 16_001, 15_000)).toBe(true);
      });
    });
  });
}
