import { DeleteUserPolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { GRANT_POLICY_NAME } from '../grant-policy';
import { callIam, ignoreNotFound } from '../iam-errors';
import { formatCount } from '../policy-size';
import { canonicalInline, inlineUnchanged, locateInline, readInline, renderInline } from './inline-policy';
import type { PolicyHolder } from './policy-holder';

/** An IAM user: one person, so statements need no pinning; the inline policy counts against the 2,048-character quota. */
export const iamUser: PolicyHolder = {
  kind: 'iam-user',
  container: 'user-inline',
  locate: (principal) => locateInline(principal, 'user'),
  inspectionAccounts: () => [''],
  canonical: canonicalInline,
  policyName: () => GRANT_POLICY_NAME,
  sizeAdvice: (location, others) =>
    others > 0
      ? `ask an admin to move ${location.name}'s other inline policies (${formatCount(others)} characters) into managed ` +
        `policies, or end one of ${location.name}'s other grants`
      : `ask an admin to end one of ${location.name}'s other grants, or map this person to an IAM role`,
  render: (statements) => renderInline(statements),
  read: (iam, location, withOthers) => readInline(iam, location, 'user', withOthers),
  unchanged: inlineUnchanged,
  async write(iam, location, _state, statements, document) {
    if (statements.length === 0) {
      await callIam(location, 'iam:DeleteUserPolicy', () =>
        iam.send(new DeleteUserPolicyCommand({ UserName: location.name, PolicyName: GRANT_POLICY_NAME })),
      ).catch(ignoreNotFound);
      return `iam:DeleteUserPolicy UserName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
    }
    await callIam(location, 'iam:PutUserPolicy', () =>
      iam.send(
        new PutUserPolicyCommand({ UserName: location.name, PolicyName: GRANT_POLICY_NAME, PolicyDocument: document }),
      ),
    );
    return this.describePut(location);
  },
  describePut: (location) => `iam:PutUserPolicy UserName=${location.name} PolicyName=${GRANT_POLICY_NAME}`,
};
