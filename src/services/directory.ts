import type { AwsPrincipal, Platform, UserRef } from '../core/model';

/** Who people are, as far as approvals go: built from the config (identities, roles, admins, channels). */
export interface Directory {
  requester(user: UserRef, email?: string): { principal?: AwsPrincipal; groups: string[] };
  /** Approver roles the person is a member of. */
  approverRoles(user: UserRef, email?: string): string[];
  isAdmin(user: UserRef, email?: string): boolean;
  roleNames(): string[];
  /** How admins are named in messages ("carol@example.com, console:carol"). */
  adminsLabel(): string;
  /** Channel → role mappings from the config file (runtime mappings in the store win over these). */
  fileChannelMappings(): { platform: Platform; channelId: string; role: string }[];
}
