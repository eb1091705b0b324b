import type { ChannelMapping, IdentityRule, PrincipalTemplate, RoleConfig } from './identity-model';
import type { AwsPrincipal, ChannelRef, Platform } from './model';
import { PLATFORMS } from './model';

// Who a chat user is on the AWS side, which approver roles they hold, and which channels speak for which role.
// Pure: works on the typed config (or the parts of it that matter) and data passed in.

/** A chat user as an adapter reports them; `email` only when the platform could resolve it. */
export interface ChatUser {
  platform: Platform;
  userId: string;
  displayName: string;
  email?: string;
}

/** How the config names a person: `platform:userId` or an email address (stored lower-cased). */
export type MemberRef = { kind: 'user'; platform: Platform; userId: string } | { kind: 'email'; email: string };

const PLATFORM_REF_RE = new RegExp(`^(${PLATFORMS.join('|')}):(\\S+)$`);
const EMAIL_RE = /^[^\s@:]+@[^\s@:]+\.[^\s@:]+$/;

export function parseMemberRef(text: string): MemberRef | undefined {
  const trimmed = text.trim();
  const platformMatch = PLATFORM_REF_RE.exec(trimmed);
  if (platformMatch) return { kind: 'user', platform: platformMatch[1] as Platform, userId: platformMatch[2]! };
  if (EMAIL_RE.test(trimmed)) return { kind: 'email', email: trimmed.toLowerCase() };
  return undefined;
}

/** How a platform spells its user ids (e.g. lower-cased where they ignore case); absent: as written. */
export type CanonicalUserId = (platform: Platform, userId: string) => string;

/** The canonical spelling of a member reference (emails lower-cased), or undefined when it is neither form. */
export function canonicalMemberRef(text: string, canonicalUserId?: CanonicalUserId): string | undefined {
  const ref = parseMemberRef(text);
  if (!ref) return undefined;
  if (ref.kind === 'email') return ref.email;
  return `${ref.platform}:${canonicalUserId ? canonicalUserId(ref.platform, ref.userId) : ref.userId}`;
}

type UserKey = Pick<ChatUser, 'platform' | 'userId' | 'email'>;

/** Member references as parsed, by their text: the same few config entries are matched on every click. */
const parsedMembers = new Map<string, MemberRef | undefined>();
const PARSED_MEMBERS_KEPT = 1_000;

function parsedMember(member: string): MemberRef | undefined {
  if (parsedMembers.has(member)) return parsedMembers.get(member);
  const ref = parseMemberRef(member);
  if (parsedMembers.size >= PARSED_MEMBERS_KEPT) parsedMembers.clear();
  parsedMembers.set(member, ref);
  return ref;
}

/** Whether `member` (`platform:userId` or an email) names this user. User ids are exact; emails ignore case. */
export function memberMatches(member: string, user: UserKey): boolean {
  const ref = parsedMember(member);
  if (!ref) return false;
  if (ref.kind === 'user') return ref.platform === user.platform && ref.userId === user.userId;
  return user.email !== undefined && user.email.trim().toLowerCase() === ref.email;
}

function emailDomain(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at > 0
    ? email
        .slice(at + 1)
        .trim()
        .toLowerCase()
    : undefined;
}

/** Finds the identity rule for a user: `platform:userId` first, then email, then an email-domain default. */
export function findIdentityRule(identities: readonly IdentityRule[], user: UserKey): IdentityRule | undefined {
  const byUserId = identities.find(
    (rule) => 'userId' in rule.match && rule.match.platform === user.platform && rule.match.userId === user.userId,
  );
  if (byUserId) return byUserId;
  const email = user.email?.trim().toLowerCase();
  if (!email) return undefined;
  const byEmail = identities.find((rule) => 'email' in rule.match && rule.match.email.toLowerCase() === email);
  if (byEmail) return byEmail;
  const domain = emailDomain(email);
  return identities.find((rule) => 'emailDomain' in rule.match && rule.match.emailDomain.toLowerCase() === domain);
}

/** AWS role session names: 2–64 characters of [\w+=,.@-]. */
const SESSION_NAME_MAX = 64;
const SESSION_NAME_INVALID_CHAR = /[^\w+=,.@-]/g;
export const SESSION_NAME_PLACEHOLDERS = ['email', 'userId', 'name'] as const;

/**
 * Renders a session-name pattern such as `{email}` or `jit-{userId}` for one person. Emails are lower-cased so
 * the same person always gets the same name; characters AWS does not allow become `-`. Undefined when the
 * pattern needs a value the user does not have (e.g. `{email}` on a platform that could not resolve it).
 */
export function renderSessionName(pattern: string, user: ChatUser): string | undefined {
  const values: Record<(typeof SESSION_NAME_PLACEHOLDERS)[number], string | undefined> = {
    email: user.email?.trim().toLowerCase() || undefined,
    userId: user.userId || undefined,
    name: user.displayName.trim() || undefined,
  };
  let missing = false;
  const rendered = pattern.replace(/\{(email|userId|name)\}/g, (_whole, key: keyof typeof values) => {
    const value = values[key];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  if (missing) return undefined;
  const safe = rendered.replace(SESSION_NAME_INVALID_CHAR, '-').slice(0, SESSION_NAME_MAX);
  return safe.length >= 2 ? safe : undefined;
}

/**
 * The AWS principal for one person. For Identity Center, `arn` is the permission set's ARN and `policyName` the
 * customer-managed policy it references (the AWSReservedSSO_* role itself cannot be edited).
 */
function principalFor(template: PrincipalTemplate, user: ChatUser): AwsPrincipal | undefined {
  switch (template.kind) {
    case 'iam-user':
      return { kind: 'iam-user', arn: template.arn };
    case 'iam-role': {
      const sessionName = renderSessionName(template.sessionName, user);
      return sessionName ? { kind: 'iam-role', arn: template.arn, sessionName } : undefined;
    }
    case 'sso-permission-set': {
      const sessionName = renderSessionName(template.sessionName, user);
      return sessionName
        ? { kind: 'sso-permission-set', arn: template.permissionSetArn, sessionName, policyName: template.policyName }
        : undefined;
    }
  }
}

export interface ResolvedRequester {
  /** Absent when the user is not mapped (or the mapping needs an email the platform did not give). */
  principal?: AwsPrincipal;
  groups: string[];
}

export function resolveRequester(config: { identities: readonly IdentityRule[] }, user: ChatUser): ResolvedRequester {
  const rule = findIdentityRule(config.identities, user);
  if (!rule) return { groups: [] };
  const principal = principalFor(rule.principal, user);
  return principal ? { principal, groups: [...rule.groups] } : { groups: [...rule.groups] };
}

type RolesConfig = { roles: Readonly<Record<string, RoleConfig>> };

/** The approver roles whose members list names this user, in config order. */
export function rolesOf(config: RolesConfig, user: UserKey): string[] {
  return Object.entries(config.roles)
    .filter(([, role]) => role.members.some((member) => memberMatches(member, user)))
    .map(([name]) => name);
}

export function isAdmin(config: { admins: readonly string[] }, user: UserKey): boolean {
  return config.admins.some((admin) => memberMatches(admin, user));
}

/** One channel that speaks for an approver role; `runtime` mappings were made with `/jit admin map-channel`. */
export interface EffectiveChannelRole {
  platform: Platform;
  channelId: string;
  role: string;
  source: 'config' | 'runtime';
  mappedBy?: string;
  mappedAt?: number;
}

const channelKey = (platform: Platform, channelId: string) => `${platform}\u0000${channelId}`;

/**
 * The effective channel → role map: the file's `roles.*.channels`, overridden per channel by stored (runtime)
 * mappings. A stored mapping with an empty role hides the file's mapping of that channel (how a file mapping is
 * unmapped at runtime); one naming a role no longer in the config is ignored. Sorted by platform, channel.
 */
export function channelRoles(config: RolesConfig, storedMappings: readonly ChannelMapping[]): EffectiveChannelRole[] {
  const byChannel = new Map<string, EffectiveChannelRole>();
  for (const [role, roleConfig] of Object.entries(config.roles)) {
    for (const platform of PLATFORMS) {
      const channelId = roleConfig.channels[platform];
      if (channelId) byChannel.set(channelKey(platform, channelId), { platform, channelId, role, source: 'config' });
    }
  }
  for (const mapping of storedMappings) {
    const key = channelKey(mapping.platform, mapping.channelId);
    if (mapping.role === '') {
      byChannel.delete(key);
      continue;
    }
    if (!Object.hasOwn(config.roles, mapping.role)) continue;
    byChannel.set(key, {
      platform: mapping.platform,
      channelId: mapping.channelId,
      role: mapping.role,
      source: 'runtime',
      mappedBy: mapping.mappedBy,
      mappedAt: mapping.mappedAt,
    });
  }
  return [...byChannel.values()].sort(
    (a, b) =>
      PLATFORMS.indexOf(a.platform) - PLATFORMS.indexOf(b.platform) ||
      (a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0),
  );
}

/** The role a channel speaks for, if any. */
export function roleOfChannel(
  config: RolesConfig,
  storedMappings: readonly ChannelMapping[],
  channel: ChannelRef,
): string | undefined {
  return channelRoles(config, storedMappings).find(
    (entry) => entry.platform === channel.platform && entry.channelId === channel.channelId,
  )?.role;
}

/** Every channel (on any platform) where a role's approval cards go. */
export function channelsForRole(
  config: RolesConfig,
  storedMappings: readonly ChannelMapping[],
  role: string,
): ChannelRef[] {
  return channelRoles(config, storedMappings)
    .filter((entry) => entry.role === role)
    .map(({ platform, channelId }) => ({ platform, channelId }));
}
