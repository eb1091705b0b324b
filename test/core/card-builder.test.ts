import { buildCard } from '../../src/core/card-builder';
import type { ApprovalLevel, JitRequest } from '../../src/core/model';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const HOUR = 3_600_000;
const ctx = { locale: 'en' as const, timeZone: 'UTC', dryRun: false, cardTags: [] };
const level = (required = 1): ApprovalLevel => ({ roles: ['ops'], users: [], required });
const confirmOf = (request: JitRequest) =>
  buildCard(request, ctx).actions.find((a) => a.id === 'approve')!.confirm!.text;

describe('the approve dialog promises access only when this approval completes the request', () => {
  test('the last approval of the last level', () => {
    expect(confirmOf(makeRequest({ levels: [level()] }))).toBe('Alice gets Session Manager access to web-1 for 2h.');
  });

  test('level 1 of 2', () => {
    expect(confirmOf(makeRequest({ levels: [level(), level()] }))).toBe(
      'Your approval counts towards Level 1 of 2 (0 of 1 so far). Alice gets access to web-1 only when every level has approved.',
    );
  });

  test('the first of two approvals needed at the last level', () => {
    expect(confirmOf(makeRequest({ levels: [level(2)] }))).toContain('Level 1 of 1 (0 of 2 so far)');
    const oneIn = makeRequest({
      levels: [level(2)],
      decisions: [
        {
          by: { platform: 'console', userId: 'bob', displayName: 'Bob' },
          roles: ['ops'],
          level: 0,
          verdict: 'approve',
          at: FIXTURE_NOW,
        },
      ],
    });
    expect(confirmOf(oneIn)).toBe('Alice gets Session Manager access to web-1 for 2h.');
  });
});

test('an ended card shows when access ended instead of the old expiry', () => {
  const grant = {
    grantId: 'JIT-7K3Q2',
    startsAt: FIXTURE_NOW,
    expiresAt: FIXTURE_NOW + 2 * HOUR,
    dryRun: false,
    summary: 'granted',
  };
  const active = buildCard(makeRequest({ status: 'active', grant }), ctx);
  expect(active.fields).toContainEqual({ label: 'Expires', value: '2025-01-15 11:00' });
  const ended = buildCard(makeRequest({ status: 'ended', grant, endedAt: FIXTURE_NOW + 2 * HOUR + 30_000 }), ctx);
  expect(ended.fields.map((f) => f.label)).not.toContain('Expires');
  expect(ended.fields).toContainEqual({ label: 'Ended', value: '2025-01-15 11:00' });
});
