import type { ApprovalCard } from '../../../src/core/card';
import type { InboundEvent, Reply } from '../../../src/ports/chat';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import { ConsoleAdapter } from '../../../adapters/console/console-adapter';

export const USERS = [
  { userId: 'dana', displayName: 'Dana', description: 'Developer' },
  { userId: 'alice', displayName: 'Alice', description: 'Approver: ops-approvers' },
  { userId: 'bob', displayName: 'Bob', description: 'Approver: security-leads' },
  { userId: 'carol', displayName: 'Carol', description: 'Admin' },
];

export const CHANNELS = [
  { id: 'requests', name: 'requests', private: false, description: 'Type /jit … here' },
  { id: 'ops-approvers', name: 'ops-approvers', private: true },
];

export interface ConsoleHarness {
  adapter: ConsoleAdapter;
  server: RunningHttpServer;
  events: InboundEvent[];
  /** Replies the fake core returns, in order; then `{ kind: 'info', text: 'ok' }`. */
  replies: Reply[];
  get(path: string): Promise<{ status: number; body: any }>;
  post(path: string, body: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startConsole(
  options: { start?: boolean; requests?: unknown[]; audit?: unknown[]; handlerError?: Error } = {},
): Promise<ConsoleHarness> {
  let nextId = 0;
  let clock = 1_700_000_000_000;
  const adapter = new ConsoleAdapter({
    users: USERS,
    channels: CHANNELS,
    views: { listRequests: async () => options.requests ?? [], listAudit: async () => options.audit ?? [] },
    newId: () => `id-${++nextId}`,
    now: () => (clock += 1000),
  });
  const events: InboundEvent[] = [];
  const replies: Reply[] = [];
  if (options.start !== false) {
    await adapter.start(
      async (event) => {
        events.push(event);
        if (options.handlerError) throw options.handlerError;
        return replies.shift() ?? { kind: 'info', text: 'ok' };
      },
      { locale: 'en' },
    );
  }
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [adapter] });
  const request = async (path: string, init?: RequestInit) => {
    const response = await fetch(server.url + path, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    adapter,
    server,
    events,
    replies,
    get: (path) => request(path),
    post: (path, body) =>
      request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    async close() {
      await adapter.stop();
      await server.close();
    },
  };
}

export function sampleCard(overrides: Partial<ApprovalCard> = {}): ApprovalCard {
  return {
    requestId: 'JIT-7K3Q2',
    version: 1,
    status: 'pending',
    title: 'JIT-7K3Q2 · web-1 (i-0123456789abcdef0)',
    statusText: '⏳ Waiting for Level 1 of 1: ops-approvers',
    requester: { platform: 'console', userId: 'dana', displayName: 'Dana' },
    fields: [
      { label: 'Node', value: 'web-1' },
      { label: 'Duration', value: '2h' },
    ],
    reason: 'fix nginx',
    reasonLabel: 'Reason',
    progress: 'Level 1 of 1 · 0 of 1 approvals',
    decisions: [],
    actions: [
      { id: 'approve', label: 'Approve', style: 'primary' },
      {
        id: 'reject',
        label: 'Reject',
        style: 'danger',
        confirm: { title: 'Reject?', text: 'Dana will be told.', confirm: 'Reject', deny: 'Cancel' },
      },
    ],
    commentInput: { label: 'Comment', placeholder: 'Optional', maxLength: 20 },
    notices: ['Dry run: no AWS change will be made.'],
    footer: 'Requested 14:03',
    ...overrides,
  };
}

/** Everything `user` can see, from the API. */
export async function stateOf(harness: ConsoleHarness, user: string): Promise<any> {
  const { status, body } = await harness.get(`/console/api/state?user=${user}`);
  if (status !== 200) throw new Error(`state for ${user}: ${status} ${JSON.stringify(body)}`);
  return body;
}

export function conversation(state: any, id: string): any {
  const found = [...state.channels, ...state.dms].find((c: any) => c.id === id);
  if (!found) throw new Error(`no conversation ${id} in state`);
  return found;
}
