import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  type IAMClient,
  ListPolicyVersionsCommand,
  paginateListEntitiesForPolicy,
} from '@aws-sdk/client-iam';
import { GrantRefused } from '../../ports/granter';
import { grantStatements, managedPolicyDocument, parsePolicyDocument, serializePolicy } from '../grant-policy';
import { callIam, ignoreNotFound, NotFound } from '../iam-errors';
import { compactPolicy, readManagedPolicy } from '../policy-reading';
import type { PolicyHolder, PolicyLocation } from './policy-holder';

// An Identity Center permission set: jitbot rewrites the customer-managed policy `principal.policyName` in the
// *node's* account. Identity Center provisions a separate AWSReservedSSO_* role into every account, each with its own
// copy of the policy, and statements are pinned to those roles' ids and the person's user name.

/** Identity Center roles live under this path; only they are trusted to carry a person's user name as session name. */
export const SSO_ROLE_PATH_PREFIX = '/aws-reserved/sso.amazonaws.com/';
/** IAM keeps at most this many versions of a managed policy. */
const MAX_POLICY_VERSIONS = 5;

export const permissionSet: PolicyHolder = {
  kind: 'sso-permission-set',
  container: 'managed',
  locate(principal, nodeAccount, partition) {
    if (!principal.policyName)
      throw new GrantRefused(`Identity Center principal ${principal.arn} has no policyName configured`);
    return {
      kind: principal.kind,
      account: nodeAccount,
      objectArn: `arn:${partition}:iam::${nodeAccount}:policy/${principal.policyName}`,
      name: principal.policyName,
      description: `Identity Center policy ${principal.policyName} in ${nodeAccount}`,
    };
  },
  inspectionAccounts: (configured) => [...new Set(configured)],
  canonical: (principal) => ({ kind: principal.kind, arn: principal.arn, policyName: principal.policyName }),
  policyName: (location) => location.name,
  sizeAdvice: () =>
    `ask an admin to end other grants on this permission set, or split its people across permission sets`,
  render: (statements, partition) => serializePolicy(managedPolicyDocument(statements, partition)),
  async read(iam, location) {
    try {
      const { document } = await callIam(location, 'iam:GetPolicy/iam:GetPolicyVersion', () =>
        readManagedPolicy(iam, location.objectArn),
      );
      return {
        exists: true,
        statements: grantStatements(parsePolicyDocument(document)),
        current: compactPolicy(document),
        others: [],
      };
    } catch (error) {
      if (error instanceof NotFound) return { exists: false, statements: [], others: [] };
      throw error;
    }
  },
  // The document (a placeholder statement when there are no grants) is always written.
  unchanged: (state, _statements, document) => state.exists && state.current === document,
  async write(iam, location, state, _statements, document) {
    if (!state.exists) {
      await createManagedPolicy(iam, location, document);
      return `iam:CreatePolicy PolicyName=${location.name} (account ${location.account})`;
    }
    await pruneVersions(iam, location);
    await callIam(location, 'iam:CreatePolicyVersion', () =>
      iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: location.objectArn, PolicyDocument: document, SetAsDefault: true }),
      ),
    );
    return this.describePut(location);
  },
  describePut: (location) => `iam:CreatePolicyVersion PolicyArn=${location.objectArn} SetAsDefault=true`,
  async personRoleIds(iam, location, state, partition) {
    if (!state.exists) {
      // Identity Center cannot provision a permission set whose referenced policy is missing, so create it now.
      const empty = this.render([], partition);
      await createManagedPolicy(iam, location, empty);
      state.exists = true;
      state.current = empty;
    }
    const ids = await ssoRoleIds(iam, location);
    if (ids.length === 0) {
      throw new GrantRefused(
        `policy ${location.name} in account ${location.account} is not attached to any Identity Center role yet: add a ` +
          `customer managed policy reference "${location.name}" to the permission set and provision it to account ${location.account}`,
      );
    }
    return ids;
  },
};

async function createManagedPolicy(iam: IAMClient, location: PolicyLocation, document: string): Promise<void> {
  await callIam(location, 'iam:CreatePolicy', () =>
    iam.send(
      new CreatePolicyCommand({
        PolicyName: location.name,
        PolicyDocument: document,
        Description:
          'Temporary Session Manager grants, rewritten by jitbot. Reference it from the permission set; do not edit.',
      }),
    ),
  );
}

/** A managed policy keeps at most five versions: make room by deleting the oldest non-default one. */
async function pruneVersions(iam: IAMClient, location: PolicyLocation): Promise<void> {
  const { Versions = [] } = await callIam(location, 'iam:ListPolicyVersions', () =>
    iam.send(new ListPolicyVersionsCommand({ PolicyArn: location.objectArn, MaxItems: 100 })),
  );
  if (Versions.length < MAX_POLICY_VERSIONS) return;
  const candidates = Versions.filter((v) => !v.IsDefaultVersion && v.VersionId);
  candidates.sort((a, b) => versionOrder(a) - versionOrder(b));
  const oldest = candidates[0];
  if (!oldest?.VersionId) return;
  await callIam(location, 'iam:DeletePolicyVersion', () =>
    iam.send(new DeletePolicyVersionCommand({ PolicyArn: location.objectArn, VersionId: oldest.VersionId })),
  ).catch(ignoreNotFound);
}

function versionOrder(version: { VersionId?: string; CreateDate?: Date }): number {
  if (version.CreateDate) return version.CreateDate.getTime();
  return Number(version.VersionId?.replace(/^v/, '') ?? 0);
}

/** Every Identity Center role the policy is attached to. */
async function ssoRoleIds(iam: IAMClient, location: PolicyLocation): Promise<string[]> {
  return callIam(location, 'iam:ListEntitiesForPolicy', async () => {
    const ids: string[] = [];
    const pages = paginateListEntitiesForPolicy(
      { client: iam },
      { PolicyArn: location.objectArn, EntityFilter: 'Role', PathPrefix: SSO_ROLE_PATH_PREFIX },
    );
    for await (const page of pages) for (const role of page.PolicyRoles ?? []) if (role.RoleId) ids.push(role.RoleId);
    return ids;
  });
}
