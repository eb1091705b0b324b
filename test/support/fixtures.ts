import type { JitRequest } from '../../src/core/model';

// Shared test data. Every test that needs "a request" starts from makeRequest() and overrides what it is about.

/** 2025-01-15 09:00:00 UTC: the fixed "now" the fixtures are built around. */
export const FIXTURE_NOW = Date.UTC(2025, 0, 15, 9, 0, 0);

const HOUR = 3_600_000;

/**
 * A valid pending request: Alice on the local console asks for 2 h on web-1 (i-0123456789abcdef0, account
 * 111122223333, cn-north-1) under the manual policy "prod-manual" with one level (ops-approvers, 1 approval).
 */
export function makeRequest(overrides: Partial<JitRequest> = {}): JitRequest {
  return {
    id: 'JIT-7K3Q2',
    requester: {
      platform: 'console',
      userId: 'alice',
      displayName: 'Alice',
      email: 'alice@example.com',
      groups: ['developers'],
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/alice' },
    },
    origin: { platform: 'console', channelId: 'console' },
    target: {
      id: 'i-0123456789abcdef0',
      account: '111122223333',
      region: 'cn-north-1',
      name: 'web-1',
      tags: { Name: 'web-1', env: 'prod' },
      state: 'running',
      pingStatus: 'Online',
    },
    reason: 'fix nginx',
    durationMs: 2 * HOUR,
    policy: { name: 'prod-manual', kind: 'manual' },
    levels: [{ roles: ['ops-approvers'], users: [], required: 1 }],
    currentLevel: 0,
    decisions: [],
    status: 'pending',
    version: 1,
    createdAt: FIXTURE_NOW,
    updatedAt: FIXTURE_NOW,
    timeoutAt: FIXTURE_NOW + 24 * HOUR,
    cards: [],
    outbox: [],
    ...overrides,
  };
}
