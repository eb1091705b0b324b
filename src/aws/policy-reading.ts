import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  paginateListRolePolicies,
  paginateListUserPolicies,
} from '@aws-sdk/client-iam';
import { decodePolicyDocument, GRANT_POLICY_NAME, serializePolicy } from './grant-policy';
import { isNoSuchEntity } from './iam-errors';

// Reading IAM policies as text: the granter reads jitbot's own policy, the doctor everything a requester has.

/** Every inline policy on a user or role, name → decoded document text. Throws NoSuchEntityException if the principal is missing. */
export async function readInlinePolicies(
  iam: IAMClient,
  kind: 'user' | 'role',
  name: string,
): Promise<Map<string, string>> {
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

/** Only the jitbot policy (cheaper than reading every inline policy when the size budget does not matter). */
export async function readOwnInline(iam: IAMClient, kind: 'user' | 'role', name: string): Promise<Map<string, string>> {
  try {
    const out =
      kind === 'user'
        ? await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: GRANT_POLICY_NAME }))
        : await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: GRANT_POLICY_NAME }));
    return new Map([[GRANT_POLICY_NAME, decodePolicyDocument(out.PolicyDocument ?? '{}')]]);
  } catch (error) {
    // GetUserPolicy says NoSuchEntity both for a missing user and a missing policy: either way there is no grant.
    if (isNoSuchEntity(error)) return new Map();
    throw error;
  }
}

/** The default version of a managed policy as text, plus its version id. Throws NoSuchEntityException if missing. */
export async function readManagedPolicy(
  iam: IAMClient,
  policyArn: string,
): Promise<{ document: string; versionId: string }> {
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const versionId = Policy?.DefaultVersionId ?? 'v1';
  const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }));
  return { document: decodePolicyDocument(PolicyVersion?.Document ?? '{}'), versionId };
}

/** A stored document in jitbot's own compact form, to tell whether a rewrite would change anything. */
export function compactPolicy(document: string): string {
  try {
    return serializePolicy(JSON.parse(document) as object);
  } catch {
    return document;
  }
}
