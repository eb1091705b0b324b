import type { IAMClient } from '@aws-sdk/client-iam';
import type { Logger } from 'pino';
import type { AwsPrincipal, Grant, JitRequest } from '../core/model';
import type { Clock } from '../ports/clock';
import { GrantRefused } from '../ports/granter';
import type { Store } from '../ports/store';
import type { AwsClients } from './clients';
import { grantStatement, isoSeconds, type PolicyStatement, withGrant, withoutGrant } from './grant-policy';
import { NotFound, refuseMissing } from './iam-errors';
import { holderFor, locatePolicy, type PolicyLocation, type PolicyState } from './policy-holders';
import { formatCount, sizeBudget } from './policy-size';
import { type LeaseOptions, principalLeaseName, withLease } from './principal-lease';

// One jitbot-owned policy per principal. Every change is a read-modify-write of that policy under a store lease
// (`principal#<user/role/policy ARN>`), so concurrent grants for one principal cannot lose each other. Where the
// policy lives and how it is written differs per kind of principal: see policy-holders/.

const ROLE_ID_TTL_MS = 10 * 60_000;

export interface PrincipalPoliciesDeps {
  clients: AwsClients;
  /** For the per-principal leases. */
  store: Store;
  /** This process's lease owner id (e.g. `jitbot-<ulid>`). */
  owner: string;
  clock: Clock;
  logger?: Logger;
  lease?: LeaseOptions;
}

export class PrincipalPolicies {
  private readonly roleIds = new Map<string, { ids: string[]; until: number }>();

  constructor(private readonly deps: PrincipalPoliciesDeps) {}

  /** The requester's principal and where its policy lives; refuses a request that cannot be granted safely. */
  prepare(request: JitRequest): { principal: AwsPrincipal; location: PolicyLocation } {
    const principal = request.requester.principal;
    if (!principal) throw new GrantRefused(`${request.id}: the requester is not mapped to an AWS principal`);
    // Without a session name, a statement on a role would let everyone who can assume the role in.
    if (holderFor(principal.kind).personRoleIds && !principal.sessionName) {
      throw new GrantRefused(
        `${request.id}: ${principal.arn} is shared, so it needs a session name that identifies the person`,
      );
    }
    return { principal, location: this.locate(principal, request.target.account) };
  }

  locate(principal: AwsPrincipal, nodeAccount: string): PolicyLocation {
    return locatePolicy(principal, nodeAccount, this.deps.clients.partition);
  }

  underLease<T>(location: PolicyLocation, work: (renew: () => Promise<void>) => Promise<T>): Promise<T> {
    const { store, clock, owner } = this.deps;
    return withLease(
      { store, clock, owner },
      principalLeaseName(location.objectArn),
      (lease) => work(() => lease.renew()),
      this.deps.lease,
    );
  }

  /** The read-modify-write of one grant; the caller holds the principal's lease. */
  async addStatement(
    request: JitRequest,
    principal: AwsPrincipal,
    location: PolicyLocation,
    startsAt: number,
    expiresAt: number,
    renew: () => Promise<void>,
  ): Promise<Grant> {
    const holder = holderFor(location.kind);
    const iam = this.iam(location);
    const now = this.deps.clock.now();
    const state = await holder.read(iam, location, true).catch((error) => refuseMissing(error, location));
    const statement = grantStatement({
      grantId: request.id,
      node: request.target,
      expiresAt,
      principal,
      roleIds: await this.personScope(iam, location, principal, state),
    });
    const statements = withGrant(state.statements, statement, now);
    const document = this.render(location, statements);
    const budget = sizeBudget(holder.container, document, state.others);
    const policyName = holder.policyName(location);
    if (!budget.fits) {
      throw new GrantRefused(
        `${request.target.name ?? request.target.id}: ${policyName} for ${location.description} would be ` +
          `${formatCount(budget.total)} of ${formatCount(budget.quota)} characters (IAM quota); ${holder.sizeAdvice(location, budget.others)}`,
      );
    }
    const call = await this.write(iam, location, state, statements, document, renew);
    this.deps.logger?.info(
      {
        requestId: request.id,
        policy: location.objectArn,
        characters: budget.total,
        quota: budget.quota,
        wrote: call !== undefined,
      },
      'grant written',
    );
    return {
      grantId: request.id,
      startsAt,
      expiresAt,
      dryRun: false,
      summary:
        `ssm:StartSession on ${statement.Resource} until ${isoSeconds(expiresAt)} ` +
        `(${policyName} on ${location.description}: ${formatCount(budget.total)} of ${formatCount(budget.quota)} characters)`,
      detail: call ?? 'no IAM write needed: the statement was already in place',
    };
  }

  /** Removes one statement under the lease; false when there was nothing to remove. A missing principal/policy is fine. */
  async removeStatement(
    location: PolicyLocation,
    sid: string,
    shouldRemove?: () => Promise<boolean>,
  ): Promise<boolean> {
    return this.underLease(location, async (renew) => {
      if (shouldRemove && !(await shouldRemove())) return false;
      const iam = this.iam(location);
      let state: PolicyState;
      try {
        state = await holderFor(location.kind).read(iam, location, false);
      } catch (error) {
        if (error instanceof NotFound) return false;
        throw error;
      }
      if (!state.exists) return false;
      const had = state.statements.some((s) => s.Sid === sid);
      const statements = withoutGrant(state.statements, sid, this.deps.clock.now());
      await this.write(iam, location, state, statements, this.render(location, statements), renew);
      return had;
    });
  }

  /** The statements in the jitbot policy (none when it does not exist). Throws NotFound for a missing principal. */
  async statements(location: PolicyLocation): Promise<PolicyStatement[]> {
    return (await holderFor(location.kind).read(this.iam(location), location, false)).statements;
  }

  private iam(location: PolicyLocation): IAMClient {
    try {
      return this.deps.clients.iam(location.account);
    } catch {
      throw new GrantRefused(
        `${location.description} is in account ${location.account}, which is not listed under aws.accounts`,
      );
    }
  }

  private render(location: PolicyLocation, statements: PolicyStatement[]): string {
    return holderFor(location.kind).render(statements, this.deps.clients.partition);
  }

  /** Writes (or deletes) the jitbot policy; returns a description of the IAM call, or undefined when nothing changed. */
  private async write(
    iam: IAMClient,
    location: PolicyLocation,
    state: PolicyState,
    statements: PolicyStatement[],
    document: string,
    renew: () => Promise<void>,
  ): Promise<string | undefined> {
    const holder = holderFor(location.kind);
    if (holder.unchanged(state, statements, document)) return undefined;
    // The lease must still be ours right before the write, or another writer may have read the same old document.
    await renew();
    return holder.write(iam, location, state, statements, document);
  }

  /** The unique role ids the person's aws:userid is pinned to (cached per policy holder); undefined when not pinned. */
  private async personScope(
    iam: IAMClient,
    location: PolicyLocation,
    principal: AwsPrincipal,
    state: PolicyState,
  ): Promise<string[] | undefined> {
    const holder = holderFor(location.kind);
    if (!holder.personRoleIds || !principal.sessionName) return undefined;
    const cached = this.roleIds.get(location.objectArn);
    if (cached && cached.until > this.deps.clock.now()) return cached.ids;
    const ids = await holder.personRoleIds(iam, location, state, this.deps.clients.partition);
    if (ids.length === 0) throw new GrantRefused(`${location.description} has no role id`);
    this.roleIds.set(location.objectArn, { ids, until: this.deps.clock.now() + ROLE_ID_TTL_MS });
    return ids;
  }
}
