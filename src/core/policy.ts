import type { Node } from './model';
import type { AutoApprovalPolicy, DenyPolicy, ManualPolicy, Policy, TargetSelector } from './policy-model';

// Which policy decides a request, the way AWS just-in-time node access does it: deny → auto-approve → manual.
//
// Matching is literal: every dimension a selector gives must match, and a given list must contain the node's
// value, so an empty list (`ids: []`, `groups: []`) matches nothing. An empty `tags` map is no condition.
// The config loader should reject empty lists, since neither reading is obviously what the author meant.

export type PolicyOutcome =
  | { kind: 'deny'; policy: DenyPolicy }
  | { kind: 'auto'; policy: AutoApprovalPolicy; durationMs: number }
  | { kind: 'manual'; policy: ManualPolicy; durationMs: number }
  | {
      kind: 'duration_out_of_bounds';
      policy: ManualPolicy | AutoApprovalPolicy;
      requestedMs: number;
      minMs: number;
      maxMs: number;
    }
  | { kind: 'ambiguous'; policies: [Policy, Policy] }
  | { kind: 'none' };

export interface PolicyInput {
  node: Node;
  requesterGroups: string[];
  /** What the requester asked for; absent means "the policy's default". */
  durationMs?: number;
}

/** Auto-approved access shorter than this is refused as a typo (e.g. "30s" meant as "30m"). */
export const AUTO_MIN_DURATION_MS = 60_000;

/** A bare "*" tag value means "the node has this tag key, whatever its value". */
export const ANY_TAG_VALUE = '*';

/**
 * Specificity scale. The tiers are far enough apart that a lower tier never adds up to a higher one
 * (AWS allows at most 50 tags per resource: 50 × 100 < 100 000, and accounts + regions = 20 < 50):
 *   ids                          100 000
 *   each tag with a set value        100
 *   each tag with value "*"           50   (key present is a weaker claim than key=value)
 *   accounts                          10
 *   regions                           10
 *   no dimension (all nodes)           0
 */
export const SPECIFICITY = {
  ids: 100_000,
  tagValue: 100,
  tagPresent: 50,
  accounts: 10,
  regions: 10,
} as const;

export function specificity(selector: TargetSelector): number {
  let score = 0;
  if (selector.ids !== undefined) score += SPECIFICITY.ids;
  for (const value of Object.values(selector.tags ?? {})) {
    score += value === ANY_TAG_VALUE ? SPECIFICITY.tagPresent : SPECIFICITY.tagValue;
  }
  if (selector.accounts !== undefined) score += SPECIFICITY.accounts;
  if (selector.regions !== undefined) score += SPECIFICITY.regions;
  return score;
}

export function selectorMatches(selector: TargetSelector, node: Node): boolean {
  if (selector.ids !== undefined && !includesIgnoringCase(selector.ids, node.id)) return false;
  for (const [key, value] of Object.entries(selector.tags ?? {})) {
    const actual = node.tags[key];
    if (actual === undefined) return false;
    if (value !== ANY_TAG_VALUE && actual !== value) return false;
  }
  if (selector.accounts !== undefined && !selector.accounts.includes(node.account)) return false;
  if (selector.regions !== undefined && !includesIgnoringCase(selector.regions, node.region)) return false;
  return true;
}

export function policyMatches(policy: Policy, node: Node, requesterGroups: readonly string[]): boolean {
  const groups = policy.requesters?.groups;
  if (groups !== undefined && !groups.some((group) => requesterGroups.includes(group))) return false;
  return selectorMatches(policy.targets, node);
}

export function evaluatePolicies(policies: readonly Policy[], input: PolicyInput): PolicyOutcome {
  const matching = policies.filter((policy) => policyMatches(policy, input.node, input.requesterGroups));

  const deny = matching.find((policy): policy is DenyPolicy => policy.kind === 'deny');
  if (deny) return { kind: 'deny', policy: deny };

  const auto = mostSpecific(matching.filter((policy): policy is AutoApprovalPolicy => policy.kind === 'auto'));
  if (auto.kind === 'ambiguous') return auto;
  if (auto.kind === 'one') return autoOutcome(auto.policy, input.durationMs);

  const manual = mostSpecific(matching.filter((policy): policy is ManualPolicy => policy.kind === 'manual'));
  if (manual.kind === 'ambiguous') return manual;
  if (manual.kind === 'one') return manualOutcome(manual.policy, input.durationMs);

  return { kind: 'none' };
}

function autoOutcome(policy: AutoApprovalPolicy, requestedMs: number | undefined): PolicyOutcome {
  if (requestedMs === undefined) return { kind: 'auto', policy, durationMs: policy.maxDurationMs };
  return withinBounds(requestedMs, AUTO_MIN_DURATION_MS, policy.maxDurationMs)
    ? { kind: 'auto', policy, durationMs: requestedMs }
    : outOfBounds(policy, requestedMs, AUTO_MIN_DURATION_MS, policy.maxDurationMs);
}

function manualOutcome(policy: ManualPolicy, requestedMs: number | undefined): PolicyOutcome {
  const durationMs = requestedMs ?? policy.defaultDurationMs;
  return withinBounds(durationMs, policy.minDurationMs, policy.maxDurationMs)
    ? { kind: 'manual', policy, durationMs }
    : outOfBounds(policy, durationMs, policy.minDurationMs, policy.maxDurationMs);
}

function withinBounds(ms: number, minMs: number, maxMs: number): boolean {
  return Number.isFinite(ms) && ms >= minMs && ms <= maxMs;
}

function outOfBounds(
  policy: ManualPolicy | AutoApprovalPolicy,
  requestedMs: number,
  minMs: number,
  maxMs: number,
): PolicyOutcome {
  return { kind: 'duration_out_of_bounds', policy, requestedMs, minMs, maxMs };
}

type Winner<P extends Policy> =
  | { kind: 'nothing' }
  | { kind: 'one'; policy: P }
  | { kind: 'ambiguous'; policies: [Policy, Policy] };

/** The single most specific policy, or the first two (config order) that tie for the top score. */
function mostSpecific<P extends Policy>(candidates: readonly P[]): Winner<P> {
  let best: P[] = [];
  let bestScore = -1;
  for (const policy of candidates) {
    const score = specificity(policy.targets);
    if (score > bestScore) {
      best = [policy];
      bestScore = score;
    } else if (score === bestScore) {
      best.push(policy);
    }
  }
  const [first, second] = best;
  if (first === undefined) return { kind: 'nothing' };
  if (second === undefined) return { kind: 'one', policy: first };
  return { kind: 'ambiguous', policies: [first, second] };
}

const MAX_LISTED = 3;

/** Short human text for messages: "Env=prod", "i-0abc, i-0def", "Env=prod · account 111122223333", "all nodes". */
export function describeTargets(selector: TargetSelector): string {
  const parts: string[] = [];
  if (selector.ids !== undefined) parts.push(shortList(selector.ids));
  const tags = Object.entries(selector.tags ?? {});
  if (tags.length > 0) parts.push(tags.map(([key, value]) => `${key}=${value}`).join(', '));
  if (selector.accounts !== undefined)
    parts.push(`${plural('account', selector.accounts)} ${shortList(selector.accounts)}`);
  if (selector.regions !== undefined)
    parts.push(`${plural('region', selector.regions)} ${shortList(selector.regions)}`);
  return parts.length > 0 ? parts.join(' · ') : 'all nodes';
}

function shortList(values: readonly string[]): string {
  if (values.length === 0) return '(none)';
  const shown = values.slice(0, MAX_LISTED).join(', ');
  return values.length > MAX_LISTED ? `${shown} +${values.length - MAX_LISTED} more` : shown;
}

function plural(word: string, values: readonly string[]): string {
  return values.length === 1 ? word : `${word}s`;
}

function includesIgnoringCase(values: readonly string[], value: string): boolean {
  const wanted = value.toLowerCase();
  return values.some((candidate) => candidate.toLowerCase() === wanted);
}
