import type { IAMClient } from '@aws-sdk/client-iam';
import type { AwsPrincipal } from '../../core/model';
import { GrantRefused } from '../../ports/granter';
import {
  GRANT_POLICY_NAME,
  grantStatements,
  parsePolicyDocument,
  policyDocument,
  type PolicyStatement,
  serializePolicy,
} from '../grant-policy';
import { callIam } from '../iam-errors';
import { compactPolicy, readInlinePolicies, readOwnInline } from '../policy-reading';
import type { PolicyLocation, PolicyState } from './policy-holder';

// What IAM users and IAM roles share: the inline policy `jitbot-grants` on the user or role, in the account of the
// principal's ARN (a person can only start sessions on nodes in that same account; jitbot does not second-guess that).

type Noun = 'user' | 'role';

export function locateInline(principal: AwsPrincipal, noun: Noun): PolicyLocation {
  const parts = principal.arn.split(':');
  const account = parts[4] ?? '';
  const resource = parts.slice(5).join(':');
  if (parts[0] !== 'arn' || parts[2] !== 'iam' || !/^\d{12}$/.test(account) || !resource.startsWith(`${noun}/`)) {
    throw new GrantRefused(`${principal.arn} is not an IAM ${noun} ARN`);
  }
  const name = resource.slice(resource.lastIndexOf('/') + 1);
  return { kind: principal.kind, account, objectArn: principal.arn, name, description: `IAM ${noun} ${name}` };
}

export async function readInline(
  iam: IAMClient,
  location: PolicyLocation,
  noun: Noun,
  withOthers: boolean,
): Promise<PolicyState> {
  const Noun = noun === 'user' ? 'User' : 'Role';
  // Without the size budget only jitbot's own policy matters; a missing principal then just reads as "no policy".
  const policies = withOthers
    ? await callIam(location, `iam:List${Noun}Policies/iam:Get${Noun}Policy`, () =>
        readInlinePolicies(iam, noun, location.name),
      )
    : await callIam(location, `iam:Get${Noun}Policy`, () => readOwnInline(iam, noun, location.name));
  const own = policies.get(GRANT_POLICY_NAME);
  const others = [...policies.entries()].filter(([name]) => name !== GRANT_POLICY_NAME).map(([, doc]) => doc);
  return {
    exists: own !== undefined,
    statements: own === undefined ? [] : grantStatements(parsePolicyDocument(own)),
    current: own === undefined ? undefined : compactPolicy(own),
    others,
  };
}

/** No statements left means no policy. */
export function inlineUnchanged(state: PolicyState, statements: PolicyStatement[], document: string): boolean {
  return statements.length === 0 ? !state.exists : state.exists && state.current === document;
}

export function renderInline(statements: PolicyStatement[]): string {
  return serializePolicy(policyDocument(statements));
}

/** The principal without the per-person session name. */
export function canonicalInline(principal: AwsPrincipal): AwsPrincipal {
  return { kind: principal.kind, arn: principal.arn };
}
