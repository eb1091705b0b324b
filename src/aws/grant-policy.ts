import type { AwsPrincipal, JitRequest } from '../core/model';
import { nodeArn, type Partition } from '../core/partition';
import { normaliseRequestId } from '../core/request-id';

// The one policy jitbot owns on each principal: one statement per grant, each allowing ssm:StartSession on exactly
// one node until the grant's expiry (IAM enforces the expiry itself), pinned to one person on shared roles.

/** The inline/managed policy jitbot owns on each principal. */
export const GRANT_POLICY_NAME = 'jitbot-grants';

export interface GrantStatementInput {
  grantId: string;
  node: JitRequest['target'];
  expiresAt: number;
  principal: AwsPrincipal;
  /** For roles shared by several people: the role's unique id (AROA…), so aws:userid pins the person. */
  roleId?: string;
  /**
   * Identity Center: the unique ids of every AWSReservedSSO_* role the customer-managed policy is attached to
   * (several permission sets may reference it). Takes precedence over `roleId`.
   */
  roleIds?: string[];
}

export type ConditionValue = string | string[];

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string;
  Resource: string;
  Condition: Record<string, Record<string, ConditionValue>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** What a grant statement says, read back from IAM. */
export interface StatementGrant {
  grantId: string;
  nodeId: string;
  nodeArn: string;
  expiresAt: number;
}

/** IAM Sids are alphanumeric only. */
export function statementId(grantId: string): string {
  return grantId.replace(/[^A-Za-z0-9]/g, '');
}

/** The grant (request) id a Sid was made from: `JIT7K3Q2` → `JIT-7K3Q2`; other Sids are returned unchanged. */
export function grantIdFromSid(sid: string): string {
  const id = normaliseRequestId(sid);
  return id !== undefined && statementId(id) === sid ? id : sid;
}

/** `aws:CurrentTime` values: ISO 8601 to the second, UTC. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One grant: StartSession on exactly one node, until `expiresAt`, for exactly one person. */
export function grantStatement(input: GrantStatementInput): PolicyStatement {
  const condition: Record<string, Record<string, ConditionValue>> = {
    DateLessThan: { 'aws:CurrentTime': isoSeconds(input.expiresAt) },
    BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
  };
  if (input.principal.kind !== 'iam-user' && input.principal.sessionName) {
    const sessionName = input.principal.sessionName;
    const roleIds =
      input.roleIds && input.roleIds.length > 0 ? [...input.roleIds].sort() : [input.roleId ?? '<role-id>'];
    const userIds = roleIds.map((roleId) => `${roleId}:${sessionName}`);
    condition.StringEquals = { 'aws:userid': userIds.length === 1 ? userIds[0]! : userIds };
  }
  return {
    Sid: statementId(input.grantId),
    Effect: 'Allow',
    Action: 'ssm:StartSession',
    Resource: nodeArn(input.node),
    Condition: condition,
  };
}

export function policyDocument(statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** The document as jitbot writes it: compact JSON (whitespace would only count against nothing, but wastes bytes). */
export function serializePolicy(document: object): string {
  return JSON.stringify(document);
}

/**
 * Parses a policy document as IAM returns it. Get*Policy and GetPolicyVersion return it URL-encoded (RFC 3986);
 * anything that already looks like JSON is taken as is.
 */
export function parsePolicyDocument(raw: string): unknown {
  return JSON.parse(decodePolicyDocument(raw)) as unknown;
}

/** The document text of what IAM returned (URL-encoded or not). */
export function decodePolicyDocument(raw: string): string {
  return raw.trim().startsWith('{') ? raw : decodeURIComponent(raw);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every statement of a parsed document, whatever its shape (Statement may be one object or a list). */
export function documentStatements(document: unknown): Record<string, unknown>[] {
  if (!isRecord(document)) return [];
  return asArray(document.Statement).filter(isRecord);
}

/** The grant statements in a jitbot-owned document; anything else in it (e.g. the empty-policy placeholder) is dropped. */
export function grantStatements(document: unknown): PolicyStatement[] {
  return documentStatements(document).filter(isGrantStatement);
}

function isGrantStatement(statement: Record<string, unknown>): statement is Record<string, unknown> & PolicyStatement {
  return (
    typeof statement.Sid === 'string' &&
    statement.Effect === 'Allow' &&
    statement.Action === 'ssm:StartSession' &&
    typeof statement.Resource === 'string' &&
    isRecord(statement.Condition) &&
    statementExpiry(statement as unknown as PolicyStatement) !== undefined
  );
}

/** When the statement stops allowing anything (its DateLessThan aws:CurrentTime), in epoch ms. */
export function statementExpiry(statement: PolicyStatement): number | undefined {
  const value = statement.Condition.DateLessThan?.['aws:CurrentTime'];
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** The node id is the last path segment of the node ARN (instance/i-… or managed-instance/mi-…). */
export function statementGrant(statement: PolicyStatement): StatementGrant {
  return {
    grantId: grantIdFromSid(statement.Sid),
    nodeId: statement.Resource.slice(statement.Resource.lastIndexOf('/') + 1),
    nodeArn: statement.Resource,
    expiresAt: statementExpiry(statement) ?? 0,
  };
}

const isLive = (now: number) => (statement: PolicyStatement) => (statementExpiry(statement) ?? 0) > now;

/**
 * Adds or replaces (same Sid, same position) one grant and drops statements that have expired by `now`. Pure and
 * idempotent: applying the same statement twice yields the same list.
 */
export function withGrant(
  statements: readonly PolicyStatement[],
  statement: PolicyStatement,
  now: number,
): PolicyStatement[] {
  // The statement being replaced keeps its place even if it has expired, so re-applying it changes nothing.
  const live = statements.filter((s) => s.Sid === statement.Sid || isLive(now)(s));
  const at = live.findIndex((s) => s.Sid === statement.Sid);
  if (at === -1) return [...live, statement];
  return live.map((s, i) => (i === at ? statement : s));
}

/** Removes one grant (by Sid) and drops statements that have expired by `now`. */
export function withoutGrant(statements: readonly PolicyStatement[], sid: string, now: number): PolicyStatement[] {
  return statements.filter((s) => s.Sid !== sid).filter(isLive(now));
}

/**
 * A managed policy cannot be empty, and deleting it would break the permission set that references it, so when no
 * grant is left it keeps this statement, which denies StartSession on an instance id that cannot exist.
 */
export function noGrantsStatement(partition: Partition): Record<string, unknown> {
  return {
    Sid: 'NoGrants',
    Effect: 'Deny',
    Action: 'ssm:StartSession',
    Resource: `arn:${partition}:ec2:*:*:instance/jitbot-no-grants`,
  };
}

/** The managed-policy document for a list of grants: the grants, or the placeholder when there are none. */
export function managedPolicyDocument(statements: PolicyStatement[], partition: Partition): object {
  return statements.length > 0
    ? policyDocument(statements)
    : { Version: '2012-10-17', Statement: [noGrantsStatement(partition)] };
}
