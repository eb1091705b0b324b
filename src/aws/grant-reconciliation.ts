import type { Logger } from 'pino';
import { mayHoldGrant, shouldHoldGrant } from '../core/grant-holding';
import type { AwsPrincipal, Grant, JitRequest } from '../core/model';
import type { Clock } from '../ports/clock';
import type {
  IamOwnedGrant,
  InspectionResult,
  OrphanRemoval,
  ReconcilingGranter,
  SessionTerminator,
} from '../ports/granter';
import type { Store } from '../ports/store';
import { statementGrant, statementId } from './grant-policy';
import { NotFound } from './iam-errors';
import { holderFor, type PolicyLocation } from './policy-holders';
import type { PrincipalPolicies } from './principal-policies';

// What the reconciler asks of IAM (services/reconciler decides what to repair): list the statements in jitbot's
// policies, write back a missing one, remove an orphan. Each repair is re-checked under the principal's lease.

const LIST_CONCURRENCY = 4;

export interface GrantReconciliationDeps {
  policies: PrincipalPolicies;
  store: Store;
  clock: Clock;
  sessions: SessionTerminator;
  logger?: Logger;
  /** Configured account ids: where Identity Center policies are looked for by default. */
  accounts?: readonly string[];
}

export class GrantReconciliation implements ReconcilingGranter {
  constructor(private readonly deps: GrantReconciliationDeps) {}

  /**
   * The statements in the jitbot policies of these principals; a policy that cannot be read is reported instead of
   * failing the whole listing. Identity Center principals are inspected in every account of `accounts`.
   */
  async inspect(
    principals: readonly AwsPrincipal[],
    accounts: readonly string[] = this.deps.accounts ?? [],
  ): Promise<InspectionResult> {
    const { policies } = this.deps;
    const locations = new Map<string, { principal: AwsPrincipal; location: PolicyLocation }>();
    for (const principal of principals) {
      const holder = holderFor(principal.kind);
      for (const account of holder.inspectionAccounts(accounts)) {
        try {
          const location = policies.locate(principal, account);
          const key = `${location.account}|${location.objectArn}`;
          if (!locations.has(key)) locations.set(key, { principal: holder.canonical(principal), location });
        } catch (error) {
          this.deps.logger?.warn({ principal: principal.arn, err: error }, 'skipping a principal jitbot cannot locate');
        }
      }
    }
    const result: InspectionResult = { grants: [], failures: [] };
    await forEachLimit([...locations.values()], LIST_CONCURRENCY, async ({ principal, location }) => {
      try {
        for (const statement of await policies.statements(location)) {
          const g = statementGrant(statement);
          result.grants.push({
            grantId: g.grantId,
            principalArn: principal.arn,
            nodeId: g.nodeId,
            nodeArn: g.nodeArn,
            expiresAt: g.expiresAt,
            principal,
            account: location.account,
            policyArn: location.objectArn,
          });
        }
      } catch (error) {
        if (error instanceof NotFound) return;
        result.failures.push({
          policyArn: location.objectArn,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    return result;
  }

  /**
   * Writes the statement of a request that should hold one but does not. The request is re-read under the principal's
   * lease, so a revoke that raced ahead is never undone. Undefined when nothing was restored.
   */
  async restoreGrant(requestId: string): Promise<Grant | undefined> {
    const { store, clock, policies } = this.deps;
    const request = await store.getRequest(requestId);
    if (!request || !shouldHoldGrant(request, clock.now())) return undefined;
    const { principal, location } = policies.prepare(request);
    return policies.underLease(location, async (renew) => {
      const fresh = await store.getRequest(requestId);
      if (!fresh?.grant || !shouldHoldGrant(fresh, clock.now())) return undefined;
      return policies.addStatement(fresh, principal, location, fresh.grant.startsAt, fresh.grant.expiresAt, renew);
    });
  }

  /**
   * Removes a statement found by inspect whose request does not (or no longer) hold a grant, and ends that person's
   * live sessions on the node when the request is known.
   */
  async removeOrphan(grant: IamOwnedGrant): Promise<OrphanRemoval> {
    const { store, policies } = this.deps;
    const location = policies.locate(grant.principal, grant.account);
    let request: JitRequest | undefined;
    // Re-checked under the lease: a grant that is being made right now is not an orphan.
    const removed = await policies.removeStatement(location, statementId(grant.grantId), async () => {
      request = await store.getRequest(grant.grantId);
      return !(request && mayHoldGrant(request));
    });
    const sessionsTerminated = removed && request ? await this.deps.sessions.terminateSessions(request) : 0;
    return { removed, sessionsTerminated, status: request?.status ?? 'missing' };
  }
}

async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}
