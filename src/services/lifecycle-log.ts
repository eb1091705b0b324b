import type { Logger } from 'pino';

// One structured info line per request, decision, grant and revoke, for operators: which request, who, which
// node, what came of it. Never a secret, and never people's free text (reasons, comments) at info level.

export type LifecycleEvent = 'request' | 'decision' | 'grant' | 'revoke';

export interface LifecycleFields {
  /** Absent when a request was refused before it got an id. */
  requestId?: string;
  /** `platform:userId`, or `jitbot` for what the bot does by itself. */
  actor: string;
  /** Node id (or what was typed, when it did not resolve). */
  node: string;
  /** e.g. `pending`, `approved`, `rejected`, `refused:not_approver`, `active`, `retrying`, `failed`, `revoked`. */
  outcome: string;
}

export function logLifecycle(logger: Logger, event: LifecycleEvent, fields: LifecycleFields): void {
  logger.info({ event, ...fields }, `${event} ${fields.outcome}`);
}
