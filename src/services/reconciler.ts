import type { Logger } from 'pino';
import { mayHoldGrant, shouldHoldGrant } from '../core/grant-holding';
import type { AwsPrincipal, JitRequest } from '../core/model';
import type { Clock } from '../ports/clock';
import type { IamOwnedGrant, ReconcilingGranter } from '../ports/granter';
import type { Store } from '../ports/store';
import { holdLease } from '../store/leases';

// Makes IAM agree with the store after crashes and manual edits: a statement whose request does not hold a grant
// is removed (and that person's sessions on the node are ended); an active request whose statement is missing or
// differs is written again. The granter re-checks each decision under the principal's lease.

export interface ReconcilerDeps {
  granter: ReconcilingGranter;
  store: Store;
  clock: Clock;
  /** Lease owner id of this process. */
  owner: string;
  logger?: Logger;
  /** Principals from the configuration (see configuredPrincipals): inspected even when no request names them. */
  principals?: readonly AwsPrincipal[];
  /** Configured account ids: Identity Center policies are inspected in each. */
  accounts?: readonly string[];
  /** Page size for reading active requests (all of them are read), and the most recent requests read per run. */
  batchSize?: number;
}

export interface ReconcileReport {
  /** False when another replica was reconciling (lease held). */
  ran: boolean;
  statements: number;
  removed: string[];
  restored: string[];
  /** Policies that could not be read and repairs that failed; retried on the next run. */
  failures: string[];
}

const LEASE = 'reconciler';
/** Statement expiries are written to the second. */
const toSecond = (ms: number) => Math.floor(ms / 1000);

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  /** One pass. The lead runs it at start and hourly; one replica at a time. */
  async run(): Promise<ReconcileReport> {
    const { store, clock, owner, logger } = this.deps;
    const report: ReconcileReport = { ran: false, statements: 0, removed: [], restored: [], failures: [] };
    const lease = await holdLease({ store, clock, logger }, LEASE, owner);
    if (!lease) return report;
    report.ran = true;
    try {
      await this.reconcile(report);
    } finally {
      await lease.release();
    }
    this.deps.logger?.info(
      {
        statements: report.statements,
        removed: report.removed,
        restored: report.restored,
        failures: report.failures.length,
      },
      'reconciliation finished',
    );
    return report;
  }

  private async reconcile(report: ReconcileReport): Promise<void> {
    const { store, granter } = this.deps;
    const limit = this.deps.batchSize ?? 1_000;
    const active = await this.allActiveRequests(limit);
    const recent = await store.listRecentRequests(Math.min(limit, 200));
    const requests = [...active, ...recent];
    const principals = [
      ...(this.deps.principals ?? []),
      ...requests.flatMap((r) => (r.requester.principal ? [r.requester.principal] : [])),
    ];
    const accounts = [...new Set([...(this.deps.accounts ?? []), ...requests.map((r) => r.target.account)])];

    const inspection = await granter.inspect(principals, accounts);
    report.statements = inspection.grants.length;
    for (const failure of inspection.failures) {
      report.failures.push(`${failure.policyArn}: ${failure.error}`);
      this.deps.logger?.warn({ policy: failure.policyArn, error: failure.error }, 'reconciler could not read a policy');
    }

    const found = new Map<string, IamOwnedGrant[]>();
    for (const grant of inspection.grants) found.set(grant.grantId, [...(found.get(grant.grantId) ?? []), grant]);

    for (const grant of inspection.grants) await this.checkStatement(grant, report);

    const now = this.deps.clock.now();
    const seen = new Set<string>();
    for (const request of active) {
      if (seen.has(request.id) || !shouldHoldGrant(request, now)) continue;
      seen.add(request.id);
      const statements = found.get(request.id) ?? [];
      if (!statements.some((s) => matches(s, request)))
        await this.restore(request, statements.length > 0 ? 'differs' : 'missing', report);
    }
  }

  /** Every active request, read page by page before IAM is inspected (a grant is written before its request turns active). */
  private async allActiveRequests(pageSize: number): Promise<JitRequest[]> {
    const active: JitRequest[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.listActivePage({ limit: pageSize, cursor });
      active.push(...page.requests);
      cursor = page.cursor;
    } while (cursor !== undefined);
    return active;
  }

  /** A statement whose request does not hold a grant is an orphan. */
  private async checkStatement(grant: IamOwnedGrant, report: ReconcileReport): Promise<void> {
    try {
      const request = await this.deps.store.getRequest(grant.grantId);
      if (request && mayHoldGrant(request)) return;
      const outcome = await this.deps.granter.removeOrphan(grant);
      if (!outcome.removed) return;
      report.removed.push(grant.grantId);
      this.deps.logger?.warn(
        {
          requestId: grant.grantId,
          policy: grant.policyArn,
          node: grant.nodeId,
          status: outcome.status,
          sessions: outcome.sessionsTerminated,
        },
        'reconciler removed a statement without an active request',
      );
      await this.audit('reconcile.removed', grant.grantId, {
        principalArn: grant.principalArn,
        policyArn: grant.policyArn,
        nodeId: grant.nodeId,
        expiresAt: grant.expiresAt,
        requestStatus: outcome.status,
        sessionsTerminated: outcome.sessionsTerminated,
      });
    } catch (error) {
      this.fail(report, `remove ${grant.grantId} from ${grant.policyArn}`, error);
    }
  }

  private async restore(request: JitRequest, reason: 'missing' | 'differs', report: ReconcileReport): Promise<void> {
    try {
      const grant = await this.deps.granter.restoreGrant(request.id);
      if (!grant) return;
      report.restored.push(request.id);
      this.deps.logger?.warn(
        { requestId: request.id, reason, summary: grant.summary },
        'reconciler restored the statement of an active request',
      );
      await this.audit('reconcile.restored', request.id, {
        reason,
        principalArn: request.requester.principal?.arn,
        nodeId: request.target.id,
        expiresAt: grant.expiresAt,
        summary: grant.summary,
      });
    } catch (error) {
      this.fail(report, `restore ${request.id}`, error);
    }
  }

  private async audit(action: string, requestId: string, detail: Record<string, unknown>): Promise<void> {
    await this.deps.store.appendAudit({ at: this.deps.clock.now(), actor: 'jitbot', action, requestId, detail });
  }

  private fail(report: ReconcileReport, what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    report.failures.push(`${what}: ${message}`);
    this.deps.logger?.error({ err: error }, `reconciler could not ${what}`);
  }
}

/** The statement says what the request's grant says: same node ARN tail, same expiry (to the second). */
function matches(statement: IamOwnedGrant, request: JitRequest): boolean {
  const grant = request.grant;
  if (!grant) return false;
  return (
    statement.nodeId === request.target.id &&
    statement.nodeArn.includes(`:${request.target.account}:`) &&
    toSecond(statement.expiresAt) === toSecond(grant.expiresAt)
  );
}
