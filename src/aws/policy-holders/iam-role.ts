import { DeleteRolePolicyCommand, GetRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GRANT_POLICY_NAME } from '../grant-policy';
import { callIam, ignoreNotFound, refuseMissing } from '../iam-errors';
import { formatCount } from '../policy-size';
import { canonicalInline, inlineUnchanged, locateInline, readInline, renderInline } from './inline-policy';
import type { PolicyHolder } from './policy-holder';

/** An IAM role several people assume: each statement is pinned to the role's id and the person's session name. */
export const iamRole: PolicyHolder = {
  kind: 'iam-role',
  container: 'role-inline',
  locate: (principal) => locateInline(principal, 'role'),
  inspectionAccounts: () => [''],
  canonical: canonicalInline,
  policyName: () => GRANT_POLICY_NAME,
  sizeAdvice: (location, others) =>
    others > 0
      ? `ask an admin to move role ${location.name}'s other inline policies (${formatCount(others)} characters) into ` +
        `managed policies, or end other grants on it`
      : `ask an admin to end other grants on role ${location.name}`,
  render: (statements) => renderInline(statements),
  read: (iam, location, withOthers) => readInline(iam, location, 'role', withOthers),
  unchanged: inlineUnchanged,
  async write(iam, location, _state, statements, document) {
    if (statements.length === 0) {
      await callIam(location, 'iam:DeleteRolePolicy', () =>
        iam.send(new DeleteRolePolicyCommand({ RoleName: location.name, PolicyName: GRANT_POLICY_NAME })),
      ).catch(ignoreNotFound);
      return `iam:DeleteRolePolicy RoleName=${location.name} PolicyName=${GRANT_POLICY_NAME}`;
    }
    await callIam(location, 'iam:PutRolePolicy', () =>
      iam.send(
        new PutRolePolicyCommand({ RoleName: location.name, PolicyName: GRANT_POLICY_NAME, PolicyDocument: document }),
      ),
    );
    return this.describePut(location);
  },
  describePut: (location) => `iam:PutRolePolicy RoleName=${location.name} PolicyName=${GRANT_POLICY_NAME}`,
  async personRoleIds(iam, location) {
    const { Role } = await callIam(location, 'iam:GetRole', () =>
      iam.send(new GetRoleCommand({ RoleName: location.name })),
    ).catch((error: unknown) => refuseMissing(error, location));
    return Role?.RoleId ? [Role.RoleId] : [];
  },
};
