import type { AwsPrincipal, PrincipalKind } from '../../core/model';
import { iamRole } from './iam-role';
import { iamUser } from './iam-user';
import { permissionSet } from './permission-set';
import type { PolicyHolder, PolicyLocation } from './policy-holder';

export type { PolicyHolder, PolicyLocation, PolicyState } from './policy-holder';
export { SSO_ROLE_PATH_PREFIX } from './permission-set';

const HOLDERS: Readonly<Record<PrincipalKind, PolicyHolder>> = {
  'iam-user': iamUser,
  'iam-role': iamRole,
  'sso-permission-set': permissionSet,
};

export function holderFor(kind: PrincipalKind): PolicyHolder {
  return HOLDERS[kind];
}

/** Where the jitbot policy for `principal` lives when it is granted access to a node in `nodeAccount`. */
export function locatePolicy(principal: AwsPrincipal, nodeAccount: string, partition: string): PolicyLocation {
  return holderFor(principal.kind).locate(principal, nodeAccount, partition);
}
