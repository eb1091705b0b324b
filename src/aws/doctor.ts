import {
  GetGroupPolicyCommand,
  GetPolicyCommand,
  type IAMClient,
  paginateListAttachedGroupPolicies,
  paginateListAttachedRolePolicies,
  paginateListAttachedUserPolicies,
  paginateListEntitiesForPolicy,
  paginateListGroupPolicies,
  paginateListGroupsForUser,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AwsPrincipal } from '../core/model';
import type { AwsClients } from './clients';
import { decodePolicyDocument, documentStatements, GRANT_POLICY_NAME, parsePolicyDocument } from './grant-policy';
import { isNoSuchEntity } from './iam-errors';
import { holderFor, locatePolicy, type PolicyLocation, SSO_ROLE_PATH_PREFIX } from './policy-holders';
import { readInlinePolicies, readManagedPolicy } from './policy-reading';

// `jitbot doctor`: is the AWS side set up so that grants work and mean something? Static inspection of the
// requesters' policies (moto, the test emulator, has no iam:SimulatePrincipalPolicy, and static reading also
// names the offending policy, which a simulation does not).

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** How bad a failed check is; `warning` checks do not stop grants from working. */
  severity: 'error' | 'warning';
}

export interface DoctorDeps {
  clients: AwsClients;
  /** Mapped requesters (configuredPrincipals(config.identities)). */
  principals: readonly AwsPrincipal[];
  /** Configured account ids: Identity Center roles are inspected in each. */
  accounts: readonly string[];
  /** Throws when the state table cannot be used; may return a description ("DynamoDB table jitbot in cn-north-1"). */
  checkTable: () => Promise<string | undefined>;
  /** The name admins gave the requesters' base policy (default `jitbot-requester-base`). */
  basePolicyName?: string;
}

export const DEFAULT_BASE_POLICY_NAME = 'jitbot-requester-base';

/** One policy that applies to a requester, as text, with where it comes from. */
interface EffectivePolicy {
  source: string;
  name: string;
  document: string;
  /** Managed policies only. */
  arn?: string;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [await checkCredentials(deps.clients), await checkTable(deps.checkTable)];
  const seen = new Set<string>();
  for (const principal of deps.principals) {
    for (const account of holderFor(principal.kind).inspectionAccounts(deps.accounts)) {
      let location: PolicyLocation;
      try {
        location = locatePolicy(principal, account, deps.clients.partition);
      } catch (error) {
        checks.push({ name: `principal ${principal.arn}`, ok: false, severity: 'error', detail: message(error) });
        continue;
      }
      if (seen.has(location.objectArn)) continue;
      seen.add(location.objectArn);
      checks.push(...(await checkRequester(deps, location)));
    }
  }
  return checks;
}

async function checkCredentials(clients: AwsClients): Promise<DoctorCheck> {
  const name = 'AWS credentials and partition';
  try {
    const identity = await clients.stsClient().send(new GetCallerIdentityCommand({}));
    const partition = identity.Arn?.split(':')[1];
    if (partition !== clients.partition) {
      return {
        name,
        ok: false,
        severity: 'error',
        detail:
          `the credentials are for partition ${partition ?? 'unknown'} (${identity.Arn}), ` +
          `but the configured regions are in ${clients.partition}`,
      };
    }
    return {
      name,
      ok: true,
      severity: 'error',
      detail: `${identity.Arn} (account ${identity.Account}, partition ${partition})`,
    };
  } catch (error) {
    return { name, ok: false, severity: 'error', detail: `sts:GetCallerIdentity failed: ${message(error)}` };
  }
}

async function checkTable(check: () => Promise<string | undefined>): Promise<DoctorCheck> {
  const name = 'state table';
  try {
    const description = await check();
    return { name, ok: true, severity: 'error', detail: description || 'reachable' };
  } catch (error) {
    return { name, ok: false, severity: 'error', detail: message(error) };
  }
}

async function checkRequester(deps: DoctorDeps, location: PolicyLocation): Promise<DoctorCheck[]> {
  const who = location.description;
  let policies: EffectivePolicy[];
  try {
    policies = await effectivePolicies(deps.clients.iam(location.account), location);
  } catch (error) {
    return [{ name: `requester ${who}`, ok: false, severity: 'error', detail: message(error) }];
  }
  const baseName = deps.basePolicyName ?? DEFAULT_BASE_POLICY_NAME;
  const base = policies.filter((p) => p.name === baseName || allowsSessionDocuments(p.document));
  const standing = policies.filter((p) => !isJitbotPolicy(p, location) && grantsStandingNodeAccess(p.document));
  return [
    {
      name: `base policy: ${who}`,
      ok: base.length > 0,
      severity: 'error',
      detail:
        base.length > 0
          ? `session documents allowed by ${base.map((p) => p.source).join(', ')}`
          : `no policy allows the session documents; attach ${baseName} (jitbot iam base-policy prints it)`,
    },
    {
      name: `no standing access: ${who}`,
      ok: standing.length === 0,
      severity: 'warning',
      detail:
        standing.length === 0
          ? 'ssm:StartSession on nodes only through jitbot grants'
          : `can start sessions on nodes without jitbot through ${standing.map((p) => p.source).join(', ')}; ` +
            'remove ssm:StartSession on instances from it',
    },
  ];
}

/** Inline, attached and (for users) group policies of the requester; for Identity Center, of every provisioned role. */
async function effectivePolicies(iam: IAMClient, location: PolicyLocation): Promise<EffectivePolicy[]> {
  switch (location.kind) {
    case 'iam-user':
      return userPolicies(iam, location.name);
    case 'iam-role':
      return rolePolicies(iam, location.name);
    case 'sso-permission-set': {
      const roles: string[] = [];
      try {
        // ListEntitiesForPolicy alone does not fail for a missing policy on every IAM implementation.
        await iam.send(new GetPolicyCommand({ PolicyArn: location.objectArn }));
        const pages = paginateListEntitiesForPolicy(
          { client: iam },
          { PolicyArn: location.objectArn, EntityFilter: 'Role', PathPrefix: SSO_ROLE_PATH_PREFIX },
        );
        for await (const page of pages)
          for (const role of page.PolicyRoles ?? []) if (role.RoleName) roles.push(role.RoleName);
      } catch (error) {
        if (isNoSuchEntity(error)) {
          throw new Error(
            `policy ${location.name} does not exist in account ${location.account}; create it (jitbot creates it on the first grant) ` +
              `before provisioning the permission set there`,
          );
        }
        throw error;
      }
      if (roles.length === 0) {
        throw new Error(
          `policy ${location.name} is not attached to any Identity Center role in ${location.account}: provision the permission set`,
        );
      }
      return (await Promise.all(roles.map((role) => rolePolicies(iam, role)))).flat();
    }
  }
}

async function userPolicies(iam: IAMClient, user: string): Promise<EffectivePolicy[]> {
  const result = inline(await readInlinePolicies(iam, 'user', user), `user ${user}`);
  for await (const page of paginateListAttachedUserPolicies({ client: iam }, { UserName: user })) {
    for (const p of page.AttachedPolicies ?? []) result.push(await managed(iam, p.PolicyArn!, p.PolicyName!));
  }
  for await (const page of paginateListGroupsForUser({ client: iam }, { UserName: user })) {
    for (const group of page.Groups ?? []) result.push(...(await groupPolicies(iam, group.GroupName!)));
  }
  return result;
}

async function groupPolicies(iam: IAMClient, group: string): Promise<EffectivePolicy[]> {
  const result: EffectivePolicy[] = [];
  for await (const page of paginateListGroupPolicies({ client: iam }, { GroupName: group })) {
    for (const name of page.PolicyNames ?? []) {
      const out = await iam.send(new GetGroupPolicyCommand({ GroupName: group, PolicyName: name }));
      result.push({
        source: `inline policy ${name} of group ${group}`,
        name,
        document: decodePolicyDocument(out.PolicyDocument ?? '{}'),
      });
    }
  }
  for await (const page of paginateListAttachedGroupPolicies({ client: iam }, { GroupName: group })) {
    for (const p of page.AttachedPolicies ?? []) {
      const policy = await managed(iam, p.PolicyArn!, p.PolicyName!);
      result.push({ ...policy, source: `${policy.source} (via group ${group})` });
    }
  }
  return result;
}

async function rolePolicies(iam: IAMClient, role: string): Promise<EffectivePolicy[]> {
  const result = inline(await readInlinePolicies(iam, 'role', role), `role ${role}`);
  for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName: role })) {
    for (const p of page.AttachedPolicies ?? []) result.push(await managed(iam, p.PolicyArn!, p.PolicyName!));
  }
  return result;
}

function inline(documents: Map<string, string>, owner: string): EffectivePolicy[] {
  return [...documents.entries()].map(([name, document]) => ({
    source: `inline policy ${name} of ${owner}`,
    name,
    document,
  }));
}

async function managed(iam: IAMClient, arn: string, name: string): Promise<EffectivePolicy> {
  const { document } = await readManagedPolicy(iam, arn);
  return { source: `managed policy ${name}`, name, document, arn };
}

function isJitbotPolicy(policy: EffectivePolicy, location: PolicyLocation): boolean {
  if (location.kind === 'sso-permission-set') return policy.arn === location.objectArn;
  return policy.name === GRANT_POLICY_NAME && policy.source.startsWith('inline policy');
}

// ---- static reading of statements ----

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** IAM wildcards: `*` any run of characters, `?` one character; actions are case-insensitive. */
function glob(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function coversAction(statement: Record<string, unknown>, action: string): boolean {
  if (statement.NotAction !== undefined) return !asList(statement.NotAction).some((p) => glob(p, 'i').test(action));
  return asList(statement.Action).some((p) => glob(p, 'i').test(action));
}

/** Whether a resource pattern can name an EC2 instance or an SSM managed instance (a node). */
function canNameNode(pattern: string): boolean {
  if (pattern === '*') return true;
  const parts = pattern.split(':');
  const service = parts[2] ?? '';
  const resource = parts.slice(5).join(':');
  const ec2 =
    glob(service).test('ec2') &&
    (resource.startsWith('instance/') || glob(resource).test('instance/i-0123456789abcdef0'));
  const ssm =
    glob(service).test('ssm') &&
    (resource.startsWith('managed-instance/') || glob(resource).test('managed-instance/mi-0123456789abcdef0'));
  return ec2 || ssm;
}

function statementsOf(document: string): Record<string, unknown>[] {
  try {
    return documentStatements(parsePolicyDocument(document));
  } catch {
    return [];
  }
}

/** An Allow of ssm:StartSession that can name a node (NotResource counts: it allows everything not listed). */
export function grantsStandingNodeAccess(document: string): boolean {
  return statementsOf(document).some((s) => {
    if (s.Effect !== 'Allow' || !coversAction(s, 'ssm:StartSession')) return false;
    if (s.NotResource !== undefined) return true;
    return asList(s.Resource).some(canNameNode);
  });
}

/** An Allow of ssm:StartSession on a session document: what the base policy provides. */
export function allowsSessionDocuments(document: string): boolean {
  return statementsOf(document).some(
    (s) =>
      s.Effect === 'Allow' &&
      coversAction(s, 'ssm:StartSession') &&
      asList(s.Resource).some((r) => r.includes(':document/')),
  );
}

function message(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const text = error.message.length > 300 ? `${error.message.slice(0, 300)}…` : error.message;
  return isNoSuchEntity(error) ? `does not exist (${text})` : text;
}
