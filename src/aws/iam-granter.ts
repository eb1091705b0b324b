import type { Logger } from 'pino';
import type { AwsPrincipal, Grant, JitRequest } from '../core/model';
import type { Clock } from '../ports/clock';
import type {
  Granter,
  IamOwnedGrant,
  InspectionResult,
  OrphanRemoval,
  OwnedGrant,
  ReconcilingGranter,
  SessionTerminator,
} from '../ports/granter';
import type { Store } from '../ports/store';
import type { AwsClients } from './clients';
import { statementId } from './grant-policy';
import { GrantReconciliation } from './grant-reconciliation';
import { holderFor } from './policy-holders';
import { PrincipalPolicies } from './principal-policies';
import type { LeaseOptions } from './principal-lease';

// Real grants: a statement per request in the one jitbot-owned policy of the requester's principal
// (principal-policies.ts), written where the principal's kind says (policy-holders/: the inline policy of an IAM user
// or role, or an Identity Center permission set's customer-managed policy in the node's account).

/** listOwnedGrants reads at most this many active and recent requests (the store cannot page the due index). */
const ACTIVE_PAGE_SIZE = 1_000;
const RECENT_LIMIT = 200;

export interface IamGranterDeps {
  clients: AwsClients;
  /** For the per-principal leases (and, in listOwnedGrants, the active requests). */
  store: Store;
  sessions: SessionTerminator;
  /** This process's lease owner id (e.g. `jitbot-<ulid>`). */
  owner: string;
  clock: Clock;
  logger?: Logger;
  /** Configured account ids: where listOwnedGrants looks for Identity Center policies. */
  accounts?: readonly string[];
  lease?: LeaseOptions;
}

/** Real IAM grants, and the reconciler's view of IAM. */
export class IamGranter implements Granter, ReconcilingGranter {
  readonly dryRun = false;
  private readonly policies: PrincipalPolicies;
  private readonly reconciliation: GrantReconciliation;

  constructor(private readonly deps: IamGranterDeps) {
    this.policies = new PrincipalPolicies(deps);
    this.reconciliation = new GrantReconciliation({ ...deps, policies: this.policies });
  }

  async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    const { principal, location } = this.policies.prepare(request);
    return this.policies.underLease(location, (renew) =>
      this.policies.addStatement(request, principal, location, startsAt, expiresAt, renew),
    );
  }

  async revoke(request: JitRequest): Promise<{ sessionsTerminated: number; summary: string }> {
    const principal = request.requester.principal;
    if (!principal) return { sessionsTerminated: 0, summary: `${request.id}: no AWS principal, nothing to remove` };
    const location = this.policies.locate(principal, request.target.account);
    const removed = await this.policies.removeStatement(location, statementId(request.id));
    const sessionsTerminated = await this.deps.sessions.terminateSessions(request);
    const what = removed
      ? `removed statement ${statementId(request.id)} from ${holderFor(location.kind).policyName(location)} on ${location.description}`
      : 'statement was already gone';
    return { sessionsTerminated, summary: `${what}; ${sessionsTerminated} live session(s) ended` };
  }

  /** The follow-up pass after a revoke: sessions started during IAM propagation are ended too. */
  terminateSessions(request: JitRequest): Promise<number> {
    return this.deps.sessions.terminateSessions(request);
  }

  /**
   * The port method. IAM cannot be searched by policy name, so this inspects the principals of the store's
   * active and most recent requests (and Identity Center policies in their nodes' accounts and the configured
   * accounts). The reconciler passes the configured principals explicitly through inspect.
   */
  async listOwnedGrants(): Promise<OwnedGrant[]> {
    const { store } = this.deps;
    const requests = await store.listRecentRequests(RECENT_LIMIT);
    let cursor: string | undefined;
    do {
      const page = await store.listActivePage({ limit: ACTIVE_PAGE_SIZE, cursor });
      requests.push(...page.requests);
      cursor = page.cursor;
    } while (cursor);
    const principals = requests.flatMap((r) => (r.requester.principal ? [r.requester.principal] : []));
    const accounts = [...(this.deps.accounts ?? []), ...requests.map((r) => r.target.account)];
    return this.listOwnedGrantsFor(principals, accounts);
  }

  /** Statements in the jitbot policies of these principals; throws if any policy cannot be read. */
  async listOwnedGrantsFor(
    principals: readonly AwsPrincipal[],
    accounts: readonly string[] = this.deps.accounts ?? [],
  ): Promise<IamOwnedGrant[]> {
    const { grants, failures } = await this.inspect(principals, accounts);
    if (failures.length > 0)
      throw new Error(`could not read ${failures.map((f) => `${f.policyArn} (${f.error})`).join(', ')}`);
    return grants;
  }

  inspect(principals: readonly AwsPrincipal[], accounts?: readonly string[]): Promise<InspectionResult> {
    return this.reconciliation.inspect(principals, accounts);
  }

  restoreGrant(requestId: string): Promise<Grant | undefined> {
    return this.reconciliation.restoreGrant(requestId);
  }

  removeOrphan(grant: IamOwnedGrant): Promise<OrphanRemoval> {
    return this.reconciliation.removeOrphan(grant);
  }
}
