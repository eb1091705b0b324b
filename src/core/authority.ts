import { memberMatches } from './identity';
import { samePerson } from './labels';
import type { ApprovalLevel, JitRequest, UserRef } from './model';

// The one rule for who may do what with a request. Every check goes through the one member matcher
// (`memberMatches`: platform user ids exact, emails ignoring case), so "may approve" and "may revoke" can never
// disagree about who someone is. Callers pass facts about the person; these functions decide.

/** The parts of the config that say who holds which approver role and who is an admin. */
export interface AccessRules {
  roles: Readonly<Record<string, { readonly members: readonly string[] }>>;
  admins: readonly string[];
}

/** A person acting, with what the config says about them. */
export interface Person extends UserRef {
  /** When the platform could resolve it. */
  email?: string;
  /** Approver roles whose members list names them, in config order. */
  roles: readonly string[];
  /** Named under `admins`. */
  admin: boolean;
}

/** What the config says about this chat user. */
export function personFacts(rules: AccessRules, user: UserRef & { email?: string }): Person {
  const who = { platform: user.platform, userId: user.userId, email: user.email };
  return {
    platform: user.platform,
    userId: user.userId,
    displayName: user.displayName,
    ...(user.email !== undefined && { email: user.email }),
    roles: Object.entries(rules.roles)
      .filter(([, role]) => role.members.some((member) => memberMatches(member, who)))
      .map(([name]) => name),
    admin: rules.admins.some((admin) => memberMatches(admin, who)),
  };
}

/**
 * Whether the person may decide at this level, and for which roles: `{ roles: [] }` when the level names them
 * directly, the level's roles they hold otherwise, undefined when neither. Self-approval and channels are the
 * caller's concern (see `decide`).
 */
export function mayDecide(level: ApprovalLevel, person: Person): { roles: string[] } | undefined {
  if (level.users.some((member) => memberMatches(member, person))) return { roles: [] };
  const roles = level.roles.filter((role) => person.roles.includes(role));
  return roles.length > 0 ? { roles } : undefined;
}

/** The requester, an admin, or anyone who may decide at any of the request's levels. */
export function mayRevoke(request: JitRequest, person: Person): boolean {
  if (samePerson(person, request.requester) || person.admin) return true;
  return request.levels.some((level) => mayDecide(level, person) !== undefined);
}

/** Only the requester withdraws their own request. */
export function mayCancel(request: JitRequest, person: Person): boolean {
  return samePerson(person, request.requester);
}

/** The plain chat identity, as stored in decisions and `endedBy` (no config facts, no email). */
export function userRefOf(person: UserRef): UserRef {
  return { platform: person.platform, userId: person.userId, displayName: person.displayName };
}
