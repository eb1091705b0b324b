import type { IdentityRule } from '../core/identity-model';
import type { AwsPrincipal } from '../core/model';

/** The principals the configuration maps people to (session names are per person, so they are left out). */
export function configuredPrincipals(identities: readonly IdentityRule[]): AwsPrincipal[] {
  return identities.map(({ principal: p }): AwsPrincipal => {
    switch (p.kind) {
      case 'iam-user':
        return { kind: 'iam-user', arn: p.arn };
      case 'iam-role':
        return { kind: 'iam-role', arn: p.arn };
      case 'sso-permission-set':
        return { kind: 'sso-permission-set', arn: p.permissionSetArn, policyName: p.policyName };
    }
  });
}
