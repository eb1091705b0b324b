import type { AwsPrincipal, Grant, JitRequest } from '../core/model';
import { partitionOf } from '../core/partition';
import type { Granter, OwnedGrant } from '../ports/granter';
import { grantStatement, policyDocument, type PolicyStatement } from './grant-policy';
import { holderFor, locatePolicy } from './policy-holders';

interface Recorded {
  principal: AwsPrincipal;
  nodeId: string;
  expiresAt: number;
  statement: PolicyStatement;
}

/** The IAM call that would carry a principal's rendered grant policy, written where IamGranter would write it. */
export function describeIamWrite(
  principal: AwsPrincipal,
  nodeAccount: string,
  nodeRegion: string,
  document: string,
): string {
  const location = locatePolicy(principal, nodeAccount, partitionOf(nodeRegion));
  return `${holderFor(location.kind).describePut(location)} PolicyDocument=${document}`;
}

/**
 * Used when no AWS account is configured: writes nothing, but renders exactly the policy and IAM call a
 * real grant would make, so people can see what jitbot would do.
 */
export class DryRunGranter implements Granter {
  readonly dryRun = true;
  private readonly grants = new Map<string, Recorded>();

  async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    const principal = request.requester.principal;
    if (!principal) throw new Error(`${request.id} has no AWS principal`);
    const statement = grantStatement({ grantId: request.id, node: request.target, expiresAt, principal });
    this.grants.set(request.id, { principal, nodeId: request.target.id, expiresAt, statement });
    const document = JSON.stringify(policyDocument(this.statementsOf(principal.arn)), null, 2);
    return {
      grantId: request.id,
      startsAt,
      expiresAt,
      dryRun: true,
      summary: `dry run: ssm:StartSession on ${statement.Resource} until ${statement.Condition.DateLessThan!['aws:CurrentTime']}`,
      detail: describeIamWrite(principal, request.target.account, request.target.region, document),
    };
  }

  async revoke(request: JitRequest): Promise<{ sessionsTerminated: number; summary: string }> {
    this.grants.delete(request.id);
    return { sessionsTerminated: 0, summary: `dry run: would remove statement ${request.id} and end live sessions` };
  }

  async terminateSessions(_request: JitRequest): Promise<number> {
    return 0;
  }

  async listOwnedGrants(): Promise<OwnedGrant[]> {
    return [...this.grants.entries()].map(([grantId, g]) => ({
      grantId,
      principalArn: g.principal.arn,
      nodeId: g.nodeId,
      expiresAt: g.expiresAt,
    }));
  }

  private statementsOf(principalArn: string): PolicyStatement[] {
    return [...this.grants.values()].filter((g) => g.principal.arn === principalArn).map((g) => g.statement);
  }
}
