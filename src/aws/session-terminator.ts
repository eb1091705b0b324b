import {
  paginateDescribeSessions,
  TerminateSessionCommand,
  type SessionFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { AwsPrincipal, JitRequest } from '../core/model';
import type { SessionTerminator } from '../ports/granter';
import type { AwsClients } from './clients';

export interface SsmSessionTerminatorOptions {
  clients: AwsClients;
  /**
   * Unique id (AROA…) of a role, given its ARN. When set, a role session reported with the owner
   * `<roleId>:<sessionName>` (the person's aws:userid) is recognised as well as the assumed-role ARN.
   */
  roleIds?: (roleArn: string) => Promise<string>;
}

/** DescribeSessions accepts 1–200 per page. */
const PAGE_SIZE = 200;
/** Sessions already on their way out: terminating them again would count them twice across passes. */
const ENDING = new Set(['Terminated', 'Terminating']);

/** How to recognise the person's sessions in DescribeSessions. */
interface OwnerMatch {
  /** Exact Owner value the service can filter on; absent when only a client-side match is possible. */
  filter?: string;
  matches(owner: string): boolean;
}

/**
 * Ends the requester's live Session Manager sessions on the request's node: DescribeSessions (Active, Target,
 * and Owner when the owner ARN can be derived) and TerminateSession for each. Safe to repeat: sessions already
 * ending are skipped, and ones that vanish in between are ignored.
 */
export class SsmSessionTerminator implements SessionTerminator {
  constructor(private readonly options: SsmSessionTerminatorOptions) {}

  async terminateSessions(request: JitRequest): Promise<number> {
    const principal = request.requester.principal;
    // No principal means jitbot never granted this person anything; there is no one to recognise.
    if (!principal) return 0;
    const { account, region, id: target } = request.target;
    const client = this.options.clients.ssm(account, region);
    const owner = await this.ownerMatch(principal);

    const filters: SessionFilter[] = [{ key: 'Target', value: target }];
    if (owner.filter) filters.push({ key: 'Owner', value: owner.filter });
    const sessionIds: string[] = [];
    try {
      for await (const page of paginateDescribeSessions(
        { client, pageSize: PAGE_SIZE },
        { State: 'Active', Filters: filters },
      )) {
        for (const session of page.Sessions ?? []) {
          if (!session.SessionId || ENDING.has(session.Status ?? '')) continue;
          if (session.Target !== undefined && session.Target !== target) continue;
          if (session.Owner === undefined || !owner.matches(session.Owner)) continue;
          sessionIds.push(session.SessionId);
        }
      }
    } catch (error) {
      throw wrap(error, `ssm:DescribeSessions for ${target} in account ${account}, region ${region}`);
    }

    let ended = 0;
    for (const sessionId of sessionIds) {
      if (await terminate(client, sessionId, account, region)) ended++;
    }
    return ended;
  }

  /**
   * - IAM user: its ARN.
   * - Role with a session name: `arn:<partition>:sts::<account>:assumed-role/<RoleName>/<sessionName>`.
   * - Role without a session name (one person's own role): every session of that role.
   * - Identity Center: the AWSReservedSSO_* role name cannot be derived from the permission set, so sessions are
   *   filtered by target only and kept when their owner is an assumed role ending in `/<sessionName>`.
   */
  private async ownerMatch(principal: AwsPrincipal): Promise<OwnerMatch> {
    const arn = parseArn(principal.arn);
    switch (principal.kind) {
      case 'iam-user': {
        if (!arn?.resource.startsWith('user/')) return unrecognisable(`${principal.arn} is not an IAM user ARN`);
        const name = arn.resource.split('/').pop()!;
        const withoutPath = `arn:${arn.partition}:iam::${arn.account}:user/${name}`;
        if (withoutPath === principal.arn)
          return { filter: principal.arn, matches: (owner) => owner === principal.arn };
        // Whether SSM reports a user's path in Owner is not documented: accept both spellings.
        return { matches: (owner) => owner === principal.arn || owner === withoutPath };
      }
      case 'iam-role': {
        if (!arn?.resource.startsWith('role/')) return unrecognisable(`${principal.arn} is not an IAM role ARN`);
        // Assumed-role ARNs carry the role name without its path.
        const roleName = arn.resource.split('/').pop()!;
        const sessionsOfRole = `arn:${arn.partition}:sts::${arn.account}:assumed-role/${roleName}/`;
        if (!principal.sessionName) return { matches: (owner) => owner.startsWith(sessionsOfRole) };
        const ownerArn = sessionsOfRole + principal.sessionName;
        if (!this.options.roleIds) return { filter: ownerArn, matches: (owner) => owner === ownerArn };
        const userId = `${await this.options.roleIds(principal.arn)}:${principal.sessionName}`;
        return { matches: (owner) => owner === ownerArn || owner === userId };
      }
      case 'sso-permission-set': {
        const sessionName = principal.sessionName;
        if (!sessionName) return unrecognisable(`no session name for permission set ${principal.arn}`);
        return { matches: (owner) => owner.includes(':assumed-role/') && owner.endsWith(`/${sessionName}`) };
      }
    }
  }
}

function unrecognisable(reason: string): never {
  throw new Error(`cannot tell which sessions are the requester's: ${reason}`);
}

/** True when this call ended the session; false when it was already gone. */
async function terminate(client: SSMClient, sessionId: string, account: string, region: string): Promise<boolean> {
  try {
    await client.send(new TerminateSessionCommand({ SessionId: sessionId }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'DoesNotExistException') return false;
    throw wrap(error, `ssm:TerminateSession ${sessionId} in account ${account}, region ${region}`);
  }
}

function wrap(error: unknown, what: string): Error {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(`${what} failed: ${reason}`, { cause: error });
}

function parseArn(arn: string): { partition: string; account: string; resource: string } | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return { partition: parts[1]!, account: parts[4]!, resource: parts.slice(5).join(':') };
}
