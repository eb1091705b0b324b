import type { JitRequest } from '../../src/core/model';
import {
  advanceAhead,
  completeEffects,
  effectRetryDelay,
  failEffect,
  recordCard,
} from '../../src/core/outbox-bookkeeping';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const MIN = 60_000;
const ctx = { now: FIXTURE_NOW + MIN };

/** A request with three queued effects: updateCards (1.0), threadReply (1.1), grant (1.2). */
function queued(): JitRequest {
  return makeRequest({
    status: 'approved',
    outbox: [
      { id: '1.0', kind: 'updateCards' },
      { id: '1.1', kind: 'threadReply', text: 'approved' },
      { id: '1.2', kind: 'grant' },
    ],
  });
}

test('retry delays double from 5 s up to 10 minutes', () => {
  expect([1, 2, 3, 4, 8, 9, 20].map(effectRetryDelay)).toEqual([
    5_000, 10_000, 20_000, 40_000, 600_000, 600_000, 600_000,
  ]);
});

test('completing effects removes exactly those ids and bumps the version', () => {
  const request = queued();
  const done = completeEffects(request, ['1.0', 'missing'], ctx);
  expect(done.outbox.map((e) => e.id)).toEqual(['1.1', '1.2']);
  expect(done.version).toBe(request.version + 1);
});

test('failed effects are retried, then abandoned with an audit record', () => {
  const request = queued();
  const once = failEffect(request, '1.0', 'chat down', 3, ctx);
  expect(once.outbox.find((e) => e.id === '1.0')).toMatchObject({ attempts: 1, retryAt: FIXTURE_NOW + MIN + 5_000 });
  const twice = failEffect(once, '1.0', 'chat down', 3, ctx);
  const abandoned = failEffect(twice, '1.0', 'chat down', 3, ctx);
  expect(abandoned.outbox.some((e) => e.id === '1.0')).toBe(false);
  expect(abandoned.outbox[abandoned.outbox.length - 1]).toMatchObject({
    kind: 'audit',
    event: { action: 'effect.abandoned', detail: { effect: 'updateCards', attempts: 3, error: 'chat down' } },
  });
});

test('notices about a waiting effect are queued ahead of it, with fresh ids', () => {
  const request = queued();
  const next = advanceAhead(request, '1.2', ctx, { failureReason: 'x' }, [
    { kind: 'updateCards' },
    { kind: 'notifyRequester', text: 'slow' },
  ]);
  expect(next.outbox.map((e) => `${e.id}:${e.kind}`)).toEqual([
    '1.0:updateCards',
    '1.1:threadReply',
    `${request.version + 1}.0:updateCards`,
    `${request.version + 1}.1:notifyRequester`,
    '1.2:grant',
  ]);
  expect(next).toMatchObject({ version: request.version + 1, updatedAt: ctx.now, failureReason: 'x' });
  // When the effect is gone, the notices simply go last.
  expect(advanceAhead(request, 'gone', ctx, {}, [{ kind: 'updateCards' }]).outbox.map((e) => e.id)).toEqual([
    '1.0',
    '1.1',
    '1.2',
    `${request.version + 1}.0`,
  ]);
});

test('a card is recorded once per channel', () => {
  const card = { platform: 'console' as const, channelId: 'ops-approvals', messageId: 'm1' };
  const once = recordCard(makeRequest(), card, ctx);
  expect(once.cards).toEqual([card]);
  expect(recordCard(once, { ...card, messageId: 'm2' }, ctx)).toBe(once);
});
