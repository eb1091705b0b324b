import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
  paginateListEntitiesForPolicy,
  paginateListRolePolicies,
  paginateListUserPolicies,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { Logger } from 'pino';
import type { IdentityRule } from '../config/types';
import { mayHoldGrant, shouldHoldGrant } from '../core/grant-holding';
import type { AwsPrincipal, Grant, JitRequest, PrincipalKind } from '../core/model';
import type { Clock } from '../ports/clock';
import {
  GrantRefused,
  type Granter,
  type IamOwnedGrant,
  type InspectionResult,
  type OrphanRemoval,
  type OwnedGrant,
  type ReconcilingGranter,
  type SessionTerminator,
} from '../ports/granter';
import type { Store } from '../ports/store';
import type { AwsClients } from './clients';
import {
  decodePolicyDocument,
  GRANT_POLICY_NAME,
  grantStatement,
  grantStatements,
  isoSeconds,
  managedPolicyDocument,
  parsePolicyDocument,
  policyDocument,
  type PolicyStatement,
  serializePolicy,
  statementGrant,
  statementId,
  withGrant,
  withoutGrant,
} from './grant-policy';
import { formatCount, type PolicyContainer, sizeBudget } from './policy-size';
import { type LeaseOptions, principalLeaseName, withLease } from './principal-lease';

// Real grants: one jitbot-owned policy per principal, rewritten under a per-principal lease.
//
// Where each write goes:
// - iam-user / iam-role: the inline policy `jitbot-grants` on the user or role, in the account of the principal's
//   ARN (a person can only start sessions on nodes in that same account; jitbot does not second-guess that).
// - sso-permission-set: the customer-managed policy `principal.policyName` in the *node's* account. Identity
//   Center provisions a separate AWSReservedSSO_* role into every account, each with its own copy of the policy.

/** Identity Center roles live under this path; only they are trusted to carry a person's user name as session name. */
export const SSO_ROLE_PATH_PREFIX = '/aws-reserved/sso.amazonaws.com/';
const ROLE_ID_TTL_MS = 10 * 60_000;
const LIST_CONCURRENCY = 4;
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

/** Where one jitbot-owned policy lives. */
export interface PolicyLocation {
  kind: PrincipalKind;
  account: string;
  /** The IAM object written: the user or role ARN, or the customer-managed policy ARN. Keys the lease. */
  objectArn: string;
  /** User, role or (Identity Center) policy name. */
  name: string;
}

/** Internal: "the IAM object is not there". Callers decide whether that is a refusal or nothing to do. */
class NotFound extends Error {}

const NOT_FOUND_NAMES = new Set(['NoSuchEntity', 'NoSuchEntityException']);
const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const REFUSED_NAMES = new Set([
  'LimitExceeded',
  'LimitExceededException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'UnmodifiableEntity',
  'UnmodifiableEntityException',
]);

export function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** Where the jitbot policy for `principal` lives when it is granted access to a node in `nodeAccount`. */
export function locatePolicy(principal: AwsPrincipal, nodeAccount: string, partition: string): PolicyLocation {
  if (principal.kind === 'sso-permission-set') {
    if (!principal.policyName) throw new GrantRefused(`Identity Center principal ${principal.arn} has no policyName configured`);
    return {
      kind: principal.kind,
      account: nodeAccount,
      objectArn: `arn:${partition}:iam::${nodeAccount}:policy/${principal.policyName}`,
      name: principal.policyName,
    };
  }
  const parts = principal.arn.split(':');
  const account = parts[4] ?? '';
  const resource = parts.slice(5).join(':');
  const expected = principal.kind === 'iam-user' ? 'user/' : 'role/';
  if (parts[0] !== 'arn' || parts[2] !== 'iam' || !/^\d{12}$/.test(account) || !resource.startsWith(expected)) {
    throw new GrantRefused(`${principal.arn} is not an IAM ${principal.kind === 'iam-user' ? 'user' : 'role'} ARN`);
  }
  const name = resource.slice(resource.lastIndexOf('/') + 1);
  return { kind: principal.kind, account, objectArn: principal.arn, name };
}

/** The principals the configuration maps people to (session names are per person, so they are left out). */
export function configuredPrincipals(identities: readonly IdentityRule[]): AwsPrincipal[] {
  return identities.map(({ principal: p }): AwsPrincipal => {
    switch (p.kind) {
      case 'iam-user':
        return { kind: 'iam-user', arn: p.arn };
      case 'iam-role':
        return { kind: 'iam-role', arn: p.arn };
      case 'sso-permission-set':
        return { kind: 'sso-permission-set', arn: p.permissionSetArn, policyName: p.policyName };
    }
  });
}

// ---- reading IAM policies (shared with the doctor) ----

/** Every inline policy on a user or role, name → decoded document text. Throws NoSuchEntityException if the principal is missing. */
export async function readInlinePolicies(iam: IAMClient, kind: 'user' | 'role', name: string): Promise<Map<string, string>> {
  const names: string[] = [];
  const pages =
    kind === 'user'
      ? paginateListUserPolicies({ client: iam }, { UserName: name })
      : paginateListRolePolicies({ client: iam }, { RoleName: name });
  for await (const page of pages) names.push(...(page.PolicyNames ?? []));
  const documents = new Map<string, string>();
  for (const policyName of names) {
    const out =
      kind === 'user'
        ? await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName }))
        : await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
    documents.set(policyName, decodePolicyDocument(out.PolicyDocument ?? '{}'));
  }
  return documents;
}

/** The default version of a managed policy as text, plus its version id. Throws NoSuchEntityException if missing. */
export async function readManagedPolicy(iam: IAMClient, policyArn: string): Promise<{ document: string; versionId: string }> {
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const versionId = Policy?.DefaultVersionId ?? 'v1';
  const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }));
  return { document: decodePolicyDocument(PolicyVersion?.Document ?? '{}'), versionId };
}

// ---- the granter ----

interface PolicyState {
  exists: boolean;
  statements: PolicyStatement[];
  /** The document as currently stored (compact), to skip writes that would change nothing. */
  current?: string;
  /** The principal's other inline policies, for the size budget. */
  others: string[];
}

/**
 * Real IAM grants. Every change is a read-modify-write of the principal's one jitbot policy under a store lease
 * (`principal#<user/role/policy ARN>`), so concurrent grants for one principal cannot lose each other.
 */
export class IamGranter implements Granter, ReconcilingGranter {
  readonly dryRun = false;
  private readonly roleIds = new Map<string, { ids: string[]; until: number }>();

  constructor(private readonly deps: IamGranterDeps) {}

  async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    const { principal, location } = this.prepare(request);
    return this.underLease(location, (renew) => this.writeGrant(request, principal, location, startsAt, expiresAt, renew));
  }

  /**
   * Reconciliation: writes the statement of a request that should hold one but does not. The request is re-read
   * under the principal's lease, so a revoke that raced ahead is never undone. Undefined when nothing was restored.
   */
  async restoreGrant(requestId: string): Promise<Grant | undefined> {
    const { store, clock } = this.deps;
    const request = await store.getRequest(requestId);
    if (!request || !shouldHoldGrant(request, clock.now())) return undefined;
    const { principal, location } = this.prepare(request);
    return this.underLease(location, async (renew) => {
      const fresh = await store.getRequest(requestId);
      if (!fresh?.grant || !shouldHoldGrant(fresh, clock.now())) return undefined;
      return this.writeGrant(fresh, principal, location, fresh.grant.startsAt, fresh.grant.expiresAt, renew);
    });
  }

  async revoke(request: JitRequest): Promise<{ sessionsTerminated: number; summary: string }> {
    const principal = request.requester.principal;
    if (!principal) return { sessionsTerminated: 0, summary: `${request.id}: no AWS principal, nothing to remove` };
    const location = this.locate(principal, request.target.account);
    const removed = await this.removeStatement(location, statementId(request.id));
    const sessionsTerminated = await this.deps.sessions.terminateSessions(request);
    const what = removed
      ? `removed statement ${statementId(request.id)} from ${policyNameOf(location)} on ${describeHolder(location)}`
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
   * accounts). The reconciler passes the configured principals explicitly through listOwnedGrantsFor.
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
  async listOwnedGrantsFor(principals: readonly AwsPrincipal[], accounts: readonly string[] = this.deps.accounts ?? []): Promise<IamOwnedGrant[]> {
    const { grants, failures } = await this.inspect(principals, accounts);
    if (failures.length > 0) throw new Error(`could not read ${failures.map((f) => `${f.policyArn} (${f.error})`).join(', ')}`);
    return grants;
  }

  /**
   * Like listOwnedGrantsFor, but a policy that cannot be read is reported instead of failing the whole listing.
   * Identity Center principals are inspected in every account of `accounts`.
   */
  async inspect(principals: readonly AwsPrincipal[], accounts: readonly string[] = this.deps.accounts ?? []): Promise<InspectionResult> {
    const locations = new Map<string, { principal: AwsPrincipal; location: PolicyLocation }>();
    for (const principal of principals) {
      const targets = principal.kind === 'sso-permission-set' ? [...new Set(accounts)] : [''];
      for (const account of targets) {
        try {
          const location = this.locate(principal, account);
          const key = `${location.account}|${location.objectArn}`;
          if (!locations.has(key)) locations.set(key, { principal: canonicalPrincipal(principal), location });
        } catch (error) {
          this.deps.logger?.warn({ principal: principal.arn, err: error }, 'skipping a principal jitbot cannot locate');
        }
      }
    }
    const result: InspectionResult = { grants: [], failures: [] };
    await forEachLimit([...locations.values()], LIST_CONCURRENCY, async ({ principal, location }) => {
      try {
        const state = await this.read(this.iam(location), location, false);
        for (const statement of state.statements) {
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
        result.failures.push({ policyArn: location.objectArn, error: error instanceof Error ? error.message : String(error) });
      }
    });
    return result;
  }

  /**
   * Reconciliation: removes a statement found by inspect whose request does not (or no longer) hold a grant, and
   * ends that person's live sessions on the node when the request is known. False when it was not removed.
   */
  async removeOrphan(grant: IamOwnedGrant): Promise<OrphanRemoval> {
    const { store } = this.deps;
    const location = this.locate(grant.principal, grant.account);
    let request: JitRequest | undefined;
    // Re-checked under the lease: a grant that is being made right now is not an orphan.
    const removed = await this.removeStatement(location, statementId(grant.grantId), async () => {
      request = await store.getRequest(grant.grantId);
      return !(request && mayHoldGrant(request));
    });
    const sessionsTerminated = removed && request ? await this.deps.sessions.terminateSessions(request) : 0;
    return { removed, sessionsTerminated, status: request?.status ?? 'missing' };
  }

  // ---- internals ----

  private prepare(request: JitRequest): { principal: AwsPrincipal; location: PolicyLocation } {
    const principal = request.requester.principal;
    if (!principal) throw new GrantRefused(`${request.id}: the requester is not mapped to an AWS principal`);
    // Without a session name, a statement on a role would let everyone who can assume the role in.
    if (principal.kind !== 'iam-user' && !principal.sessionName) {
      throw new GrantRefused(`${request.id}: ${principal.arn} is shared, so it needs a session name that identifies the person`);
    }
    return { principal, location: this.locate(principal, request.target.account) };
  }

  /** The read-modify-write of one grant; the caller holds the principal's lease. */
  private async writeGrant(
    request: JitRequest,
    principal: AwsPrincipal,
    location: PolicyLocation,
    startsAt: number,
    expiresAt: number,
    renew: () => Promise<void>,
  ): Promise<Grant> {
    const iam = this.iam(location);
    const now = this.deps.clock.now();
    const state = await this.read(iam, location, true).catch((error) => this.refuseMissing(error, location));
    const statement = grantStatement({
      grantId: request.id,
      node: request.target,
      expiresAt,
      principal,
      roleIds: await this.personScope(iam, location, principal, state),
    });
    const statements = withGrant(state.statements, statement, now);
    const document = this.render(location, statements);
    const budget = sizeBudget(container(location.kind), document, state.others);
    if (!budget.fits) {
      throw new GrantRefused(
        `${request.target.name ?? request.target.id}: ${policyNameOf(location)} for ${describeHolder(location)} would be ` +
          `${formatCount(budget.total)} of ${formatCount(budget.quota)} characters (IAM quota); ${sizeAdvice(location, budget.others)}`,
      );
    }
    const call = await this.write(iam, location, state, statements, document, renew);
    this.deps.logger?.info(
      { requestId: request.id, policy: location.objectArn, characters: budget.total, quota: budget.quota, wrote: call !== undefined },
      'grant written',
    );
    return {
      grantId: request.id,
      startsAt,
      expiresAt,
      dryRun: false,
      summary:
        `ssm:StartSession on ${statement.Resource} until ${isoSeconds(expiresAt)} ` +
        `(${policyNameOf(location)} on ${describeHolder(location)}: ${formatCount(budget.total)} of ${formatCount(budget.quota)} characters)`,
      detail: call ?? 'no IAM write needed: the statement was already in place',
    };
  }

  private locate(principal: AwsPrincipal, nodeAccount: string): PolicyLocation {
    return locatePolicy(principal, nodeAccount, this.deps.clients.partition);
  }

  private iam(location: PolicyLocation): IAMClient {
    try {
      return this.deps.clients.iam(location.account);
    } catch {
      throw new GrantRefused(`${describeHolder(location)} is in account ${location.account}, which is not listed under aws.accounts`);
    }
  }

  private underLease<T>(location: PolicyLocation, work: (renew: () => Promise<void>) => Promise<T>): Promise<T> {
    const { store, clock, owner } = this.deps;
    return withLease({ store, clock, owner }, principalLeaseName(location.objectArn), (lease) => work(() => lease.renew()), this.deps.lease);
  }

  /** Removes one statement under the lease; false when there was nothing to remove. A missing principal/policy is fine. */
  private async removeStatement(location: PolicyLocation, sid: string, shouldRemove?: () => Promise<boolean>): Promise<boolean> {
    return this.underLease(location, async (renew) => {
      if (shouldRemove && !(await shouldRemove())) return false;
      const iam = this.iam(location);
      let state: PolicyState;
      try {
        state = await this.read(iam, location, false);
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

  private render(location: PolicyLocation, statements: PolicyStatement[]): string {
    return serializePolicy(
      location.kind === 'sso-permission-set' ? managedPolicyDocument(statements, this.deps.clients.partition) : policyDocument(statements),
    );
  }

  /** Reads the jitbot policy (and, for the size budget, the principal's other inline policies). */
  private async read(iam: IAMClient, location: PolicyLocation, withOthers: boolean): Promise<PolicyState> {
    if (location.kind === 'sso-permission-set') {
      try {
        const { document } = await this.aws(location, 'iam:GetPolicy/iam:GetPolicyVersion', () => readManagedPolicy(iam, location.objectArn));
        return { exists: true, statements: grantStatements(parsePolicyDocument(document)), current: compact(document), others: [] };
      } catch (error) {
        if (error instanceof NotFound) return { exists: false, statements: [], others: [] };
        throw error;
      }
    }
    const kind = location.kind === 'iam-user' ? 'user' : 'role';
    const Kind = kind === 'user' ? 'User' : 'Role';
    // Without the size budget only jitbot's own policy matters; a missing principal then just reads as "no policy".
    const policies = withOthers
      ? await this.aws(location, `iam:List${Kind}Policies/iam:Get${Kind}Policy`, () => readInlinePolicies(iam, kind, location.name))
      : await this.aws(location, `iam:Get${Kind}Policy`, () => readOwnInline(iam, kind, location.name));
    const own = policies.get(GRANT_POLICY_NAME);
    const others = [...policies.entries()].filter(([name]) => name !== GRANT_POLICY_NAME).map(([, doc]) => doc);
    return {
      exists: own !== undefined,
      statements: own === undefined ? [] : grantStatements(parsePolicyDocument(own)),
      current: own === undefined ? undefined : compact(own),
      others,
    };
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
    const empty = statements.length === 0;
    const inline = location.kind !== 'sso-permission-set';
    // Inline: no statements left means no policy. Managed: the document (placeholder when empty) is compared.
    if ((inline && empty) ? !state.exists : (state.exists && state.current === document)) return undefined;
    // The lease must still be ours right before the write, or another writer may have read the same old document.
    await renew();
    switch (location.kind) {
      case 'iam-user':
        if (empty) {
          await this.aws(location, 'iam:DeleteUserPolicy', () =>
            iam.send(new DeleteUserPolicyCommand({ UserName: location.name, PolicyName: GRANT_POLICY_NAME })),
          ).catch(ignoreNotFound);
          return `iam:DeleteUserPolicy UserName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
        }
        await this.aws(location, 'iam:PutUserPolicy', () =>
          iam.send(new PutUserPolicyCommand({ UserName: location.name, PolicyName: GRANT_POLICY_NAME, PolicyDocument: document })),
        );
        return `iam:PutUserPolicy UserName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
      case 'iam-role':
        if (empty) {
          await this.aws(location, 'iam:DeleteRolePolicy', () =>
            iam.send(new DeleteRolePolicyCommand({ RoleName: location.name, PolicyName: GRANT_POLICY_NAME })),
          ).catch(ignoreNotFound);
          return `iam:DeleteRolePolicy RoleName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
        }
        await this.aws(location, 'iam:PutRolePolicy', () =>
          iam.send(new PutRolePolicyCommand({ RoleName: location.name, PolicyName: GRANT_POLICY_NAME, PolicyDocument: document })),
        );
        return `iam:PutRolePolicy RoleName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
      case 'sso-permission-set':
        if (!state.exists) {
          await this.createManagedPolicy(iam, location, document);
          return `iam:CreatePolicy PolicyName=${location.name} (account ${location.account})`;
        }
        await this.pruneVersions(iam, location);
        await this.aws(location, 'iam:CreatePolicyVersion', () =>
          iam.send(new CreatePolicyVersionCommand({ PolicyArn: location.objectArn, PolicyDocument: document, SetAsDefault: true })),
        );
        return `iam:CreatePolicyVersion PolicyArn=${location.objectArn} SetAsDefault=true`;
    }
  }

  private async createManagedPolicy(iam: IAMClient, location: PolicyLocation, document: string): Promise<void> {
    await this.aws(location, 'iam:CreatePolicy', () =>
      iam.send(
        new CreatePolicyCommand({
          PolicyName: location.name,
          PolicyDocument: document,
          Description: 'Temporary Session Manager grants, rewritten by jitbot. Reference it from the permission set; do not edit.',
        }),
      ),
    );
  }

  /** A managed policy keeps at most five versions: make room by deleting the oldest non-default one. */
  private async pruneVersions(iam: IAMClient, location: PolicyLocation): Promise<void> {
    const { Versions = [] } = await this.aws(location, 'iam:ListPolicyVersions', () =>
      iam.send(new ListPolicyVersionsCommand({ PolicyArn: location.objectArn, MaxItems: 100 })),
    );
    if (Versions.length < 5) return;
    const candidates = Versions.filter((v) => !v.IsDefaultVersion && v.VersionId);
    candidates.sort((a, b) => versionOrder(a) - versionOrder(b));
    const oldest = candidates[0];
    if (!oldest?.VersionId) return;
    await this.aws(location, 'iam:DeletePolicyVersion', () =>
      iam.send(new DeletePolicyVersionCommand({ PolicyArn: location.objectArn, VersionId: oldest.VersionId })),
    ).catch(ignoreNotFound);
  }

  /**
   * The unique role ids the person's aws:userid is pinned to: the role's own id for an IAM role (GetRole, cached),
   * every Identity Center role the policy is attached to for a permission set. Undefined for IAM users.
   */
  private async personScope(iam: IAMClient, location: PolicyLocation, principal: AwsPrincipal, state: PolicyState): Promise<string[] | undefined> {
    if (location.kind === 'iam-user' || !principal.sessionName) return undefined;
    const cached = this.roleIds.get(location.objectArn);
    if (cached && cached.until > this.deps.clock.now()) return cached.ids;
    let ids: string[];
    if (location.kind === 'iam-role') {
      const { Role } = await this.aws(location, 'iam:GetRole', () => iam.send(new GetRoleCommand({ RoleName: location.name }))).catch(
        (error: unknown) => this.refuseMissing(error, location),
      );
      ids = Role?.RoleId ? [Role.RoleId] : [];
    } else {
      if (!state.exists) {
        // Identity Center cannot provision a permission set whose referenced policy is missing, so create it now.
        await this.createManagedPolicy(iam, location, this.render(location, []));
        state.exists = true;
        state.current = this.render(location, []);
      }
      ids = await this.ssoRoleIds(iam, location);
      if (ids.length === 0) {
        throw new GrantRefused(
          `policy ${location.name} in account ${location.account} is not attached to any Identity Center role yet: add a ` +
            `customer managed policy reference "${location.name}" to the permission set and provision it to account ${location.account}`,
        );
      }
    }
    if (ids.length === 0) throw new GrantRefused(`${describeHolder(location)} has no role id`);
    this.roleIds.set(location.objectArn, { ids, until: this.deps.clock.now() + ROLE_ID_TTL_MS });
    return ids;
  }

  private async ssoRoleIds(iam: IAMClient, location: PolicyLocation): Promise<string[]> {
    return this.aws(location, 'iam:ListEntitiesForPolicy', async () => {
      const ids: string[] = [];
      const pages = paginateListEntitiesForPolicy(
        { client: iam },
        { PolicyArn: location.objectArn, EntityFilter: 'Role', PathPrefix: SSO_ROLE_PATH_PREFIX },
      );
      for await (const page of pages) for (const role of page.PolicyRoles ?? []) if (role.RoleId) ids.push(role.RoleId);
      return ids;
    });
  }

  private refuseMissing(error: unknown, location: PolicyLocation): never {
    if (error instanceof NotFound) throw new GrantRefused(`${describeHolder(location)} does not exist in ${location.account}`);
    throw error;
  }

  /** One IAM call with jitbot's error mapping. Throttling and 5xx were already retried by the SDK (AwsClients). */
  private async aws<T>(location: PolicyLocation, action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const name = awsErrorName(error);
      if (NOT_FOUND_NAMES.has(name)) throw new NotFound(`${location.objectArn} not found`);
      if (ACCESS_DENIED_NAMES.has(name)) {
        throw new GrantRefused(
          `jitbot is not allowed to call ${action} on ${describeHolder(location)} in account ${location.account} ` +
            `(AWS: ${awsMessage(error)}); add it to jitbot's IAM policy (see docs/aws-iam.md)`,
        );
      }
      const message = awsMessage(error);
      if (REFUSED_NAMES.has(name)) throw new GrantRefused(`IAM refused ${action} on ${describeHolder(location)}: ${message}`);
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
      throw new Error(`${action} on ${describeHolder(location)} failed (${name}${attempts ? ` after ${attempts} attempts` : ''}): ${message}`, {
        cause: error,
      });
    }
  }
}

/** Only the jitbot policy (cheaper than reading every inline policy when the size budget does not matter). */
async function readOwnInline(iam: IAMClient, kind: 'user' | 'role', name: string): Promise<Map<string, string>> {
  try {
    const out =
      kind === 'user'
        ? await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: GRANT_POLICY_NAME }))
        : await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: GRANT_POLICY_NAME }));
    return new Map([[GRANT_POLICY_NAME, decodePolicyDocument(out.PolicyDocument ?? '{}')]]);
  } catch (error) {
    // GetUserPolicy says NoSuchEntity both for a missing user and a missing policy: either way there is no grant.
    if (NOT_FOUND_NAMES.has(awsErrorName(error))) return new Map();
    throw error;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof NotFound)) throw error;
}

function compact(document: string): string {
  try {
    return serializePolicy(JSON.parse(document) as object);
  } catch {
    return document;
  }
}

function versionOrder(version: { VersionId?: string; CreateDate?: Date }): number {
  if (version.CreateDate) return version.CreateDate.getTime();
  return Number(version.VersionId?.replace(/^v/, '') ?? 0);
}

function container(kind: PrincipalKind): PolicyContainer {
  return kind === 'iam-user' ? 'user-inline' : kind === 'iam-role' ? 'role-inline' : 'managed';
}

function policyNameOf(location: PolicyLocation): string {
  return location.kind === 'sso-permission-set' ? location.name : GRANT_POLICY_NAME;
}

/** AWS error messages name principals and actions, never credentials; they are cut short to keep cards readable. */
function awsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** "IAM user dana", "IAM role ops", "Identity Center policy jitbot-ops in 111122223333". */
export function describeHolder(location: PolicyLocation): string {
  switch (location.kind) {
    case 'iam-user':
      return `IAM user ${location.name}`;
    case 'iam-role':
      return `IAM role ${location.name}`;
    case 'sso-permission-set':
      return `Identity Center policy ${location.name} in ${location.account}`;
  }
}

function sizeAdvice(location: PolicyLocation, others: number): string {
  switch (location.kind) {
    case 'iam-user':
      return others > 0
        ? `ask an admin to move ${location.name}'s other inline policies (${formatCount(others)} characters) into managed ` +
            `policies, or end one of ${location.name}'s other grants`
        : `ask an admin to end one of ${location.name}'s other grants, or map this person to an IAM role`;
    case 'iam-role':
      return others > 0
        ? `ask an admin to move role ${location.name}'s other inline policies (${formatCount(others)} characters) into ` +
            `managed policies, or end other grants on it`
        : `ask an admin to end other grants on role ${location.name}`;
    case 'sso-permission-set':
      return `ask an admin to end other grants on this permission set, or split its people across permission sets`;
  }
}

/** The principal without the per-person session name: what identifies the policy holder. */
function canonicalPrincipal(principal: AwsPrincipal): AwsPrincipal {
  return principal.kind === 'sso-permission-set'
    ? { kind: principal.kind, arn: principal.arn, policyName: principal.policyName }
    : { kind: principal.kind, arn: principal.arn };
}

async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}
