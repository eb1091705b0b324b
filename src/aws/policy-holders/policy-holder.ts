import type { IAMClient } from '@aws-sdk/client-iam';
import type { AwsPrincipal, PrincipalKind } from '../../core/model';
import type { Partition } from '../../core/partition';
import type { PolicyStatement } from '../grant-policy';
import type { IamSubject } from '../iam-errors';
import type { PolicyContainer } from '../policy-size';

/** Where one jitbot-owned policy lives. */
export interface PolicyLocation extends IamSubject {
  kind: PrincipalKind;
  account: string;
  /** The IAM object written: the user or role ARN, or the customer-managed policy ARN. Keys the lease. */
  objectArn: string;
  /** User, role or (Identity Center) policy name. */
  name: string;
}

/** The jitbot policy as read from IAM. */
export interface PolicyState {
  exists: boolean;
  statements: PolicyStatement[];
  /** The document as currently stored (compact), to skip writes that would change nothing. */
  current?: string;
  /** The principal's other inline policies, for the size budget. */
  others: string[];
}

/**
 * What differs between the kinds of principal jitbot grants to: where the jitbot policy lives, how it is read and
 * written, and how a statement is pinned to one person. One implementation per PrincipalKind; the kind-independent
 * read-modify-write under the principal's lease is PrincipalPolicies.
 */
export interface PolicyHolder {
  readonly kind: PrincipalKind;
  /** The IAM size quota the jitbot policy counts against. */
  readonly container: PolicyContainer;
  /** Throws GrantRefused when the principal's ARN or configuration cannot name a policy. */
  locate(principal: AwsPrincipal, nodeAccount: string, partition: string): PolicyLocation;
  /** The node accounts whose copy of the policy an inspection reads ('' stands for "the account of the principal's ARN"). */
  inspectionAccounts(configured: readonly string[]): string[];
  /** The principal without the per-person session name: what identifies the policy holder. */
  canonical(principal: AwsPrincipal): AwsPrincipal;
  policyName(location: PolicyLocation): string;
  /** What the person can do when the policy would outgrow its quota; `others` counts the other inline policies' characters. */
  sizeAdvice(location: PolicyLocation, others: number): string;
  render(statements: PolicyStatement[], partition: Partition): string;
  /** Reads the jitbot policy (and, with `withOthers`, the principal's other inline policies for the size budget). */
  read(iam: IAMClient, location: PolicyLocation, withOthers: boolean): Promise<PolicyState>;
  /** True when writing `document` would leave IAM as it is. */
  unchanged(state: PolicyState, statements: PolicyStatement[], document: string): boolean;
  /** Writes (or deletes) the jitbot policy; returns a description of the IAM call made. */
  write(
    iam: IAMClient,
    location: PolicyLocation,
    state: PolicyState,
    statements: PolicyStatement[],
    document: string,
  ): Promise<string>;
  /** The IAM call that writes a new document (without it); the dry run shows the same call. */
  describePut(location: PolicyLocation): string;
  /**
   * For principals several people share: the unique role ids a person's aws:userid is pinned to (the caller caches
   * them). Absent for IAM users, whose statements need no pinning.
   */
  personRoleIds?(iam: IAMClient, location: PolicyLocation, state: PolicyState, partition: Partition): Promise<string[]>;
}
