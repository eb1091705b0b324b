import type { AwsPrincipal, JitRequest } from '../core/model';
import { nodeArn } from './partition';

/** The inline/managed policy jitbot owns on each principal. */
export const GRANT_POLICY_NAME = 'jitbot-grants';

export interface GrantStatementInput {
  grantId: string;
  node: JitRequest['target'];
  expiresAt: number;
  principal: AwsPrincipal;
  /** For roles shared by several people: the role's unique id (AROA…), so aws:userid pins the person. */
  roleId?: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string;
  Resource: string;
  Condition: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** IAM Sids are alphanumeric only. */
export function statementId(grantId: string): string {
  return grantId.replace(/[^A-Za-z0-9]/g, '');
}

/** One grant: StartSession on exactly one node, until `expiresAt`, for exactly one person. */
export function grantStatement(input: GrantStatementInput): PolicyStatement {
  const condition: Record<string, Record<string, string>> = {
    DateLessThan: { 'aws:CurrentTime': new Date(input.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
  };
  if (input.principal.kind !== 'iam-user' && input.principal.sessionName) {
    condition.StringEquals = { 'aws:userid': `${input.roleId ?? '<role-id>'}:${input.principal.sessionName}` };
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
