import { t, type Locale } from './i18n/catalog';
import type { ApprovalLevel, IamProblem, Node, UserRef } from './model';

// How people, approvers and nodes are named in text and audit records.

/** `platform:userId`: how the audit log and the config name a chat user. */
/** At most `maxCodePoints` code points of `text` (never half a character), with '…' when something was cut. */
export function excerpt(text: string, maxCodePoints: number): string {
  const points = Array.from(text);
  return points.length <= maxCodePoints ? text : `${points.slice(0, maxCodePoints).join('')}…`;
}

export function personKey(user: Pick<UserRef, 'platform' | 'userId'>): string {
  return `${user.platform}:${user.userId}`;
}

/** The same chat account: platform and user id, compared exactly (platform ids are case-sensitive). */
export function samePerson(a: Pick<UserRef, 'platform' | 'userId'>, b: Pick<UserRef, 'platform' | 'userId'>): boolean {
  return a.platform === b.platform && a.userId === b.userId;
}

/** "ops-approvers, slack:U02ABCDEF": who may decide at a level. */
export function describeApprovers(level: ApprovalLevel): string {
  return [...level.roles, ...level.users].join(', ');
}

/** "web-1 (i-0123…)", or the bare id for a node without a Name tag. */
export function nodeLabel(node: Node): string {
  return node.name ? `${node.name} (${node.id})` : node.id;
}

/** The command a person runs to connect once access is live. */
export function startSessionCommand(node: Node): string {
  return `aws ssm start-session --target ${node.id} --region ${node.region}`;
}

/** "IAM throttled", or the error message itself when it is not a known condition. */
export function describeIamProblem(locale: Locale, problem: IamProblem): string {
  return problem.code === 'error' ? problem.message : t(locale, `iam.problem.${problem.code}`);
}
