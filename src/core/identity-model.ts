import type { Platform } from './model';

// The shapes identity and role rules take once the config is normalised, and the stored channel-to-role mapping.
// They live in the core because the pure identity logic (identity.ts) works on them; config/types and ports/store
// re-export them.

export type IdentityMatch = { platform: Platform; userId: string } | { email: string } | { emailDomain: string };

export type PrincipalTemplate =
  | { kind: 'iam-user'; arn: string }
  /** `sessionName` is a pattern with {email}, {userId}, {name}. */
  | { kind: 'iam-role'; arn: string; sessionName: string }
  | { kind: 'sso-permission-set'; permissionSetArn: string; policyName: string; sessionName: string };

export interface IdentityRule {
  match: IdentityMatch;
  principal: PrincipalTemplate;
  groups: string[];
}

export interface RoleConfig {
  description?: string;
  /** `platform:userId` or email addresses (lower-cased). */
  members: string[];
  /** Channel id per platform where this role's approval cards are posted. */
  channels: Partial<Record<Platform, string>>;
}

/** A chat channel an admin mapped to an approver role (`/jit channel map`). */
export interface ChannelMapping {
  platform: Platform;
  channelId: string;
  role: string;
  mappedBy: string;
  mappedAt: number;
}
