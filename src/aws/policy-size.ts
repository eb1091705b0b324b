// IAM's policy size quotas. IAM counts the characters of a policy document ignoring whitespace, and for inline
// policies the quota covers the sum of all inline policies on the principal (documents only).

export type PolicyContainer = 'user-inline' | 'role-inline' | 'managed';

export const POLICY_SIZE_QUOTA: Readonly<Record<PolicyContainer, number>> = {
  'user-inline': 2_048,
  'role-inline': 10_240,
  managed: 6_144,
};

/** Characters IAM counts towards a size quota: everything but whitespace. */
export function policyCharacters(document: string): number {
  let count = 0;
  for (const char of document) if (!/\s/.test(char)) count++;
  return count;
}

export interface SizeBudget {
  container: PolicyContainer;
  /** Characters the rewritten jitbot policy would have. */
  own: number;
  /** Characters of the principal's other inline policies (0 for a managed policy). */
  others: number;
  total: number;
  quota: number;
  fits: boolean;
}

export function sizeBudget(
  container: PolicyContainer,
  ownDocument: string,
  otherDocuments: readonly string[] = [],
): SizeBudget {
  const own = policyCharacters(ownDocument);
  const others = container === 'managed' ? 0 : otherDocuments.reduce((sum, doc) => sum + policyCharacters(doc), 0);
  const total = own + others;
  const quota = POLICY_SIZE_QUOTA[container];
  return { container, own, others, total, quota, fits: total <= quota };
}

/** "2,113": quotas and sizes are shown with thousands separators (fixed, so messages do not depend on the host locale). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
