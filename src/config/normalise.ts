import { partitionOf } from '../core/partition';
import { parseDuration } from '../core/duration';
import { type CanonicalUserId, canonicalMemberRef, findIdentityRule, parseMemberRef } from '../core/identity';
import type { ApprovalLevel, Node, Platform } from '../core/model';
import { PLATFORMS } from '../core/model';
import type { Policy, TargetSelector } from '../core/policy-model';
import type { AdapterModule, AdapterNormaliseContext } from '../ports/adapter-module';
import { DEMO_NODES } from './demo-nodes';
import { envRefName, readEnvRef, type Env } from './env-refs';
import { formatPath, fromZodIssue, issueAt, type ConfigIssue, type ConfigPath } from './issues';
import type { PartialParse } from './partial-parse';
import { NAME_RE, enabledAdapterSectionSchema, isNever, type JitbotFile } from './schema';
import type {
  AdaptersConfig,
  AwsConfig,
  IdentityMatch,
  IdentityRule,
  JitbotConfig,
  PrincipalTemplate,
  RoleConfig,
  StoreConfig,
} from './types';

// From the schema-checked file to the typed config: checks across fields, defaults that depend on other
// fields, secrets read from the environment, durations in milliseconds, policies in the core shape.
//
// The file may be partial: parts with a shape problem were left out (partial-parse.ts). A check whose inputs
// lost such a part is skipped (`intact`), so it cannot report something that only the left-out part explains.

type Path = readonly (string | number)[];

class Checker {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly dropped: string[][];

  constructor(private readonly parsed: Pick<PartialParse<unknown>, 'dropped' | 'writtenPath'>) {
    this.dropped = parsed.dropped.map((path) => path.map(String));
  }

  /** A problem at `path` (a path in the parsed file); not reported when that part was left out for its shape. */
  problem(path: ConfigPath, message: string): void {
    const written = this.parsed.writtenPath(path);
    if (!this.leftOutAtOrAbove(written)) this.issues.push(issueAt(written, message));
  }

  warning(path: ConfigPath, message: string): void {
    const written = this.parsed.writtenPath(path);
    if (!this.leftOutAtOrAbove(written)) this.warnings.push(issueAt(written, message));
  }

  /** A path in the parsed file as the file writes it, for messages that point at another part of the file. */
  where(path: ConfigPath): string {
    return formatPath(this.parsed.writtenPath(path));
  }

  /** Whether nothing at, above or under `path` was left out: checks that read it see the file as written. */
  intact(...paths: ConfigPath[]): boolean {
    return paths.every((path) => {
      const written = this.parsed.writtenPath(path).map(String);
      return !this.dropped.some((left) => isPrefix(left, written) || isPrefix(written, left));
    });
  }

  /** Whether the file has something at `path` (or above it) that was left out for its shape. */
  leftOut(path: ConfigPath): boolean {
    return this.leftOutAtOrAbove(this.parsed.writtenPath(path));
  }

  private leftOutAtOrAbove(written: Path): boolean {
    const keys = written.map(String);
    return this.dropped.some((left) => isPrefix(left, keys));
  }
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((key, index) => path[index] === key);
}

export interface NormaliseOptions {
  env: Env;
  adapters: readonly AdapterModule[];
  /** Check without the environment: secret references are checked for their form only, and not read. */
  offline?: boolean;
  /** Which parts of the file were left out for a shape problem (absent: the whole file parsed). */
  parsed?: Pick<PartialParse<unknown>, 'dropped' | 'writtenPath'>;
}

export interface Normalised {
  /** Absent when there is any problem. */
  config?: JitbotConfig;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

type FilePolicy = JitbotFile['policies'][number];
type FileManualPolicy = Extract<FilePolicy, { kind: 'manual' }>;
type FileTargets = FilePolicy['targets'];

/** Durations were checked by the schema; this only converts. */
const ms = (text: string): number => parseDuration(text)!;
const msOrNever = (value: string | number): number => (isNever(value) ? 0 : ms(String(value)));

/** An account id as YAML gave it (text, or a number that lost its leading zeros). */
const accountIdText = (value: string | number): string =>
  typeof value === 'number' ? String(value).padStart(12, '0') : value;

const stringTags = (tags: Record<string, string | number | boolean>): Record<string, string> =>
  Object.fromEntries(Object.entries(tags).map(([key, value]) => [key, String(value)]));

function arnParts(arn: string): { partition: string; account: string } {
  const [, partition = '', , , account = ''] = arn.split(':');
  return { partition, account };
}

/** Each platform's spelling of user ids, from its adapter module (ids of a platform without one stay as written). */
function canonicalUserIds(modules: readonly AdapterModule[]): CanonicalUserId {
  const byPlatform = new Map(modules.map((module) => [module.name, module.canonicalUserId?.bind(module)]));
  return (platform, userId) => byPlatform.get(platform)?.(userId) ?? userId;
}

function principalArn(principal: PrincipalTemplate): string {
  return principal.kind === 'sso-permission-set' ? principal.permissionSetArn : principal.arn;
}

export function normaliseConfig(file: JitbotFile, options: NormaliseOptions): Normalised {
  const check = new Checker(options.parsed ?? { dropped: [], writtenPath: (path) => [...path] });
  const env = options.offline ? undefined : options.env;
  const aws = normaliseAws(file, env, check);
  const store = normaliseStore(file, aws, check);
  const inventory = normaliseInventory(file, aws, check);
  const userId = canonicalUserIds(options.adapters);
  const identities = normaliseIdentities(file, aws, userId, check);
  const roles = normaliseRoles(file, userId, check);
  const admins = file.admins.map((admin) => canonicalMemberRef(admin, userId)!);
  const knownGroups = new Set(identities.flatMap((rule) => rule.groups));
  const policies = normalisePolicies(file, { aws, roles, knownGroups, identities, userId }, check);
  const adapters = normaliseAdapters(file, options.adapters, env, check);
  const replicaId = normaliseReplicaId(file.server.replicaId, env, check);

  const { issues, warnings } = check;
  if (issues.length > 0) return { issues, warnings };
  return {
    issues,
    warnings,
    config: {
      locale: file.locale,
      timeZone: file.timeZone,
      server: { host: file.server.host, port: file.server.port, ...(replicaId ? { replicaId } : {}) },
      aws,
      store,
      identities,
      roles,
      admins,
      policies,
      timeouts: {
        expiryWarningMs: msOrNever(file.timeouts.expiryWarning),
        deliveryDedupeMs: ms(file.timeouts.deliveryDedupe),
        replayMaxAgeMs: ms(file.timeouts.replayMaxAge),
      },
      audit: { retentionDays: file.audit.retentionDays },
      sweeper: { intervalMs: ms(file.sweeper.interval) },
      inventory,
      adapters,
    },
  };
}

// ── aws ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The partition is never configured: it follows the AWS regions, else the inventory's regions, else the first ARN. */
function derivePartition(file: JitbotFile): string {
  const region = file.aws?.regions[0] ?? (file.inventory.demo ? DEMO_NODES[0] : file.inventory.nodes[0])?.region;
  if (region) return partitionOf(region);
  const firstIdentity = file.identities[0];
  return firstIdentity ? arnParts(principalArn(firstIdentity.principal)).partition : 'aws';
}

/** `env` undefined: offline, secrets are not read. */
function normaliseAws(file: JitbotFile, env: Env | undefined, check: Checker): AwsConfig {
  const partition = derivePartition(file);
  if (!file.aws) return { partition, regions: [], accounts: [], dryRun: true };

  const { regions, dryRun } = file.aws;
  regions.forEach((region, index) => {
    if (partitionOf(region) !== partition) {
      check.problem(
        ['aws', 'regions', index],
        `${region} is in partition ${partitionOf(region)} but ${regions[0]} is in ${partition}; one jitbot serves one partition`,
      );
    }
  });
  const seen = new Map<string, number>();
  const accounts = file.aws.accounts.map((account, index) => {
    const path = ['aws', 'accounts', index];
    const id = accountIdText(account.id);
    const first = seen.get(id);
    if (first !== undefined)
      check.problem([...path, 'id'], `account ${id} is already listed at ${check.where(['aws', 'accounts', first])}`);
    else seen.set(id, index);

    if (account.assumeRoleArn) {
      const arn = arnParts(account.assumeRoleArn);
      if (arn.account !== id) {
        check.problem(
          [...path, 'assumeRoleArn'],
          `the role is in account ${arn.account}, expected a role in account ${id}`,
        );
      }
      if (arn.partition !== partition) {
        check.problem(
          [...path, 'assumeRoleArn'],
          `the ARN is in partition ${arn.partition} but the regions are in ${partition}`,
        );
      }
    }
    let externalId: string | undefined;
    if (account.externalId !== undefined) {
      if (!account.assumeRoleArn && check.intact([...path, 'assumeRoleArn'])) {
        check.problem([...path, 'externalId'], 'an external id is only used with assumeRoleArn');
      }
      if (!dryRun && env) {
        const lookup = readEnvRef(account.externalId, env);
        if (lookup.ok) externalId = lookup.value;
        else check.problem([...path, 'externalId'], lookup.problem);
      }
    }
    return {
      id,
      name: account.name,
      ...(account.assumeRoleArn ? { assumeRoleArn: account.assumeRoleArn } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
    };
  });
  return { partition, regions: [...regions], accounts, dryRun };
}

// ── server ───────────────────────────────────────────────────────────────────────────────────────────────

const REPLICA_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A literal id, or `${NAME}` read from the environment (e.g. a pod name) and held to the same pattern.
 * `env` undefined: offline validation, the environment is not read.
 */
function normaliseReplicaId(replicaId: string | undefined, env: Env | undefined, check: Checker): string | undefined {
  if (replicaId === undefined || REPLICA_ID_RE.test(replicaId)) return replicaId;
  if (!env) return undefined;
  const read = readEnvRef(replicaId, env);
  if (!read.ok) {
    check.problem(['server', 'replicaId'], read.problem);
    return undefined;
  }
  if (!REPLICA_ID_RE.test(read.value)) {
    check.problem(['server', 'replicaId'], `${replicaId} must hold 1–64 letters, digits, ".", "_" or "-"`);
    return undefined;
  }
  return read.value;
}

// ── store ────────────────────────────────────────────────────────────────────────────────────────────────

function normaliseStore(file: JitbotFile, aws: AwsConfig, check: Checker): StoreConfig {
  if (file.dynamodb && file.embedded) {
    check.problem(['embedded'], 'choose either dynamodb or embedded, not both');
  }
  if (file.dynamodb) {
    const { table, endpoint, createTable } = file.dynamodb;
    const region = file.dynamodb.region ?? aws.regions[0];
    return {
      kind: 'dynamodb',
      table,
      createTable,
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
  }
  const inMemory = file.embedded?.inMemory ?? false;
  const dataDir = file.embedded?.dataDir;
  if (inMemory && dataDir) {
    check.problem(['embedded', 'dataDir'], 'inMemory: true keeps nothing on disk; remove dataDir or inMemory');
  }
  if (inMemory && !aws.dryRun) {
    check.problem(
      ['embedded', 'inMemory'],
      'live AWS grants need state that survives a restart (to revoke them): use dynamodb or an embedded dataDir',
    );
  }
  return { kind: 'embedded', inMemory, ...(dataDir ? { dataDir } : {}) };
}

// ── inventory ────────────────────────────────────────────────────────────────────────────────────────────

function normaliseInventory(file: JitbotFile, aws: AwsConfig, check: Checker): JitbotConfig['inventory'] {
  const listed: Node[] = file.inventory.nodes.map((node) => ({
    id: node.id,
    account: accountIdText(node.account),
    region: node.region,
    tags: stringTags(node.tags),
    ...(node.name !== undefined ? { name: node.name } : {}),
    ...(node.state !== undefined ? { state: node.state } : {}),
    ...(node.pingStatus !== undefined ? { pingStatus: node.pingStatus } : {}),
  }));
  const seen = new Set<string>(file.inventory.demo ? DEMO_NODES.map((node) => node.id) : []);
  listed.forEach((node, index) => {
    const path = ['inventory', 'nodes', index];
    if (seen.has(node.id)) check.problem([...path, 'id'], `node ${node.id} is listed twice`);
    seen.add(node.id);
    if (partitionOf(node.region) !== aws.partition) {
      const problem = `${node.region} is in partition ${partitionOf(node.region)} but jitbot serves ${aws.partition}`;
      check.problem([...path, 'region'], problem);
    }
  });
  const demoNodes = file.inventory.demo ? DEMO_NODES.map((node) => ({ ...node, tags: { ...node.tags } })) : [];
  return { demo: file.inventory.demo, nodes: [...demoNodes, ...listed], cardTags: [...file.inventory.cardTags] };
}

// ── identities ───────────────────────────────────────────────────────────────────────────────────────────

type FileMatch = JitbotFile['identities'][number]['match'];

function normaliseMatch(
  match: FileMatch,
  path: ConfigPath,
  userId: CanonicalUserId,
  check: Checker,
): IdentityMatch | undefined {
  if (!check.intact(path)) return undefined;
  const forms = [
    match.email !== undefined,
    match.platform !== undefined || match.userId !== undefined,
    match.emailDomain !== undefined,
  ];
  if (forms.filter(Boolean).length !== 1) {
    check.problem(path, 'expected exactly one of: email, platform + userId, emailDomain');
    return undefined;
  }
  if (match.email !== undefined) return { email: match.email.toLowerCase() };
  if (match.emailDomain !== undefined) return { emailDomain: match.emailDomain.toLowerCase() };
  if (match.platform === undefined) {
    check.problem([...path, 'platform'], `required with userId: expected one of ${PLATFORMS.join(', ')}`);
    return undefined;
  }
  if (match.userId === undefined) {
    check.problem([...path, 'userId'], 'required with platform: expected the chat user id');
    return undefined;
  }
  return { platform: match.platform, userId: userId(match.platform, match.userId) };
}

function matchKey(match: IdentityMatch): string {
  if ('email' in match) return `email ${match.email}`;
  if ('emailDomain' in match) return `email domain ${match.emailDomain}`;
  return `user ${match.platform}:${match.userId}`;
}

const PER_PERSON_PLACEHOLDER = /\{(email|userId)\}/;

function normaliseIdentities(
  file: JitbotFile,
  aws: AwsConfig,
  userId: CanonicalUserId,
  check: Checker,
): IdentityRule[] {
  const seen = new Map<string, number>();
  const rules: IdentityRule[] = [];
  const accountIds = new Set(aws.accounts.map((account) => account.id));
  file.identities.forEach((entry, index) => {
    const path = ['identities', index];
    const principal: PrincipalTemplate = entry.principal;
    const match = normaliseMatch(entry.match, [...path, 'match'], userId, check);

    const arnKey = principal.kind === 'sso-permission-set' ? 'permissionSetArn' : 'arn';
    const arn = arnParts(principalArn(principal));
    if (arn.partition !== aws.partition) {
      const problem = `the ARN is in partition ${arn.partition} but jitbot serves ${aws.partition}`;
      check.problem([...path, 'principal', arnKey], problem);
    }
    const accountsKnown = accountIds.size > 0 && check.intact(['aws', 'accounts']);
    if (principal.kind !== 'sso-permission-set' && accountsKnown && !accountIds.has(arn.account)) {
      const problem = `account ${arn.account} is not one of aws.accounts, so jitbot cannot grant to it`;
      check.problem([...path, 'principal', 'arn'], problem);
    }
    if (match && 'emailDomain' in match) {
      if (principal.kind === 'iam-user') {
        check.problem(
          [...path, 'principal', 'kind'],
          'an emailDomain rule maps many people, so it needs a shared iam-role or sso-permission-set, not one IAM user',
        );
      } else if (!PER_PERSON_PLACEHOLDER.test(principal.sessionName)) {
        check.problem(
          [...path, 'principal', 'sessionName'],
          'an emailDomain rule maps many people: the session name must include {email} or {userId} to tell them apart',
        );
      }
    }
    if (!match) return;
    const key = matchKey(match);
    const first = seen.get(key);
    if (first !== undefined) {
      check.problem([...path, 'match'], `${key} is already mapped at ${check.where(['identities', first])}`);
      return;
    }
    seen.set(key, index);
    rules.push({ match, principal: { ...principal }, groups: [...entry.groups] });
  });
  return rules;
}

// ── roles ────────────────────────────────────────────────────────────────────────────────────────────────

function normaliseRoles(file: JitbotFile, userId: CanonicalUserId, check: Checker): Record<string, RoleConfig> {
  const roles: Record<string, RoleConfig> = {};
  const channelOwner = new Map<string, string>();
  for (const [name, role] of Object.entries(file.roles)) {
    if (!NAME_RE.test(name)) {
      check.problem(
        ['roles', name],
        'role names use letters, digits, ".", "_" or "-" and start with a letter or digit (max 64)',
      );
    }
    const channels: Partial<Record<Platform, string>> = {};
    for (const platform of PLATFORMS) {
      const channelId = role.channels[platform];
      if (channelId === undefined) continue;
      const key = `${platform}:${channelId}`;
      const owner = channelOwner.get(key);
      if (owner !== undefined) {
        const problem = `channel ${channelId} already speaks for role ${owner}; a channel speaks for one role`;
        check.problem(['roles', name, 'channels', platform], problem);
      } else {
        channelOwner.set(key, name);
      }
      channels[platform] = channelId;
    }
    roles[name] = {
      ...(role.description !== undefined ? { description: role.description } : {}),
      members: [...new Set(role.members.map((member) => canonicalMemberRef(member, userId)!))],
      channels,
    };
  }
  return roles;
}

// ── policies ─────────────────────────────────────────────────────────────────────────────────────────────

interface PolicyContext {
  aws: AwsConfig;
  roles: Record<string, RoleConfig>;
  knownGroups: Set<string>;
  identities: IdentityRule[];
  userId: CanonicalUserId;
}

function normaliseTargets(
  targets: FileTargets,
  path: ConfigPath,
  context: PolicyContext,
  check: Checker,
): TargetSelector {
  const selectors = (['ids', 'tags', 'accounts', 'regions'] as const).filter((key) => targets[key] !== undefined);
  if (targets.all && selectors.length > 0) {
    check.problem([...path, 'all'], `all: true cannot be combined with ${selectors.join(', ')}`);
  }
  if (!targets.all && selectors.length === 0 && check.intact(path)) {
    check.problem(path, 'expected at least one of ids, tags, accounts, regions (or all: true for every node)');
  }
  for (const key of selectors) {
    const value = targets[key]!;
    const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
    if (empty && check.intact([...path, key]))
      check.problem([...path, key], 'is empty, which would match nothing: list at least one entry or remove the key');
  }
  const selector: TargetSelector = {};
  if (targets.all) return selector;
  if (targets.ids) selector.ids = [...targets.ids];
  if (targets.tags) selector.tags = stringTags(targets.tags);
  if (targets.accounts) {
    selector.accounts = targets.accounts.map(accountIdText);
    const known = new Set(context.aws.accounts.map((account) => account.id));
    const complete = known.size > 0 && check.intact(['aws', 'accounts']);
    selector.accounts.forEach((account, index) => {
      if (complete && !known.has(account)) {
        check.problem([...path, 'accounts', index], `account ${account} is not one of aws.accounts`);
      }
    });
  }
  if (targets.regions) {
    selector.regions = [...targets.regions];
    selector.regions.forEach((region, index) => {
      if (context.aws.regions.length > 0 && check.intact(['aws', 'regions']) && !context.aws.regions.includes(region)) {
        check.problem([...path, 'regions', index], `${region} is not one of aws.regions`);
      }
    });
  }
  return selector;
}

function normaliseLevels(
  policy: FileManualPolicy,
  path: ConfigPath,
  context: PolicyContext,
  check: Checker,
): ApprovalLevel[] {
  return policy.levels.map((level, index) => {
    const levelPath = [...path, 'levels', index];
    const roles = level.roles ?? [];
    const users = (level.users ?? []).map((user) => canonicalMemberRef(user, context.userId)!);
    if (roles.length === 0 && users.length === 0 && check.intact(levelPath)) {
      check.problem(levelPath, 'expected roles or users (or both): who may approve at this level');
    }
    // Member references are canonical, so one spelling per person (someone listed both by email and by chat id counts twice).
    const approvers = new Set(users);
    let countable = check.intact(levelPath);
    roles.forEach((role, roleIndex) => {
      const roleConfig = context.roles[role];
      if (roleConfig && check.intact(['roles', role])) {
        roleConfig.members.forEach((member) => approvers.add(member));
        return;
      }
      countable = false;
      // A role that is in the file but was left out for its shape is not unknown.
      if (roleConfig || check.leftOut(['roles', role])) return;
      const known = Object.keys(context.roles).join(', ') || 'none defined';
      check.problem(
        [...levelPath, 'roles', roleIndex],
        `unknown role "${role}": expected one of the roles defined under roles (${known})`,
      );
    });
    if (countable && (roles.length > 0 || users.length > 0)) {
      checkApproverCount(policy, index, { roles, approvers, required: level.required }, levelPath, context, check);
    }
    return { roles: [...roles], users, required: level.required };
  });
}

interface LevelApprovers {
  roles: string[];
  /** Everyone who may approve: named users plus role members, canonical. */
  approvers: Set<string>;
  required: number;
}

/** Enough approvers for `required`, also when one of them is the requester (nobody approves their own request). */
function checkApproverCount(
  policy: FileManualPolicy,
  index: number,
  { roles, approvers, required }: LevelApprovers,
  levelPath: ConfigPath,
  context: PolicyContext,
  check: Checker,
): void {
  const count = approvers.size;
  if (required > count) {
    const who =
      roles.length === 0
        ? `named user${count === 1 ? '' : 's'}`
        : `${count === 1 ? 'person' : 'people'} who can approve (users plus role members)`;
    check.problem(
      [...levelPath, 'required'],
      `${required} approvals required but only ${count} ${who}: expected at most ${count}`,
    );
    return;
  }
  if (count - 1 >= required || !check.intact(['identities'])) return;
  const requester = [...approvers].find((member) => mayRequest(member, policy, context.identities));
  if (requester === undefined) return;
  const others = count - 1;
  check.warning(
    levelPath,
    `policy "${policy.name}", level ${index + 1}: a request from ${requester} can never be approved here: ` +
      `${required} approval${required === 1 ? '' : 's'} needed and ${others === 0 ? 'no other approver' : `only ${others} other approver${others === 1 ? '' : 's'}`} ` +
      '(nobody approves their own request), so it waits until it times out; add another approver',
  );
}

/** Whether the config certainly lets this member request under the policy (an identity rule names them). */
function mayRequest(member: string, policy: FileManualPolicy, identities: readonly IdentityRule[]): boolean {
  const ref = parseMemberRef(member);
  if (!ref) return false;
  let rule: IdentityRule | undefined;
  if (ref.kind === 'user') {
    rule = findIdentityRule(identities, { platform: ref.platform, userId: ref.userId });
  } else {
    const domain = ref.email.slice(ref.email.lastIndexOf('@') + 1);
    rule =
      identities.find((candidate) => 'email' in candidate.match && candidate.match.email === ref.email) ??
      identities.find((candidate) => 'emailDomain' in candidate.match && candidate.match.emailDomain === domain);
  }
  if (!rule) return false;
  const groups = policy.requesters?.groups;
  return groups === undefined || rule.groups.some((group) => groups.includes(group));
}

function normaliseManual(
  policy: FileManualPolicy,
  path: ConfigPath,
  base: Omit<Policy, 'kind'>,
  context: PolicyContext,
  check: Checker,
): Policy {
  const minDurationMs = ms(policy.minDuration);
  const maxDurationMs = ms(policy.maxDuration);
  const defaultDurationMs = policy.defaultDuration !== undefined ? ms(policy.defaultDuration) : minDurationMs;
  // A duration with a shape problem was replaced by its default; comparing with that would mislead.
  const comparable = check.intact([...path, 'minDuration'], [...path, 'maxDuration'], [...path, 'defaultDuration']);
  if (comparable && minDurationMs > maxDurationMs) {
    check.problem(
      [...path, 'minDuration'],
      `${policy.minDuration} is longer than maxDuration ${policy.maxDuration}: expected minDuration ≤ maxDuration`,
    );
  } else if (comparable && (defaultDurationMs < minDurationMs || defaultDurationMs > maxDurationMs)) {
    check.problem(
      [...path, 'defaultDuration'],
      `${policy.defaultDuration ?? policy.minDuration} is outside ${policy.minDuration}–${policy.maxDuration}: ` +
        'expected minDuration ≤ defaultDuration ≤ maxDuration',
    );
  }
  return {
    ...base,
    kind: 'manual',
    minDurationMs,
    maxDurationMs,
    defaultDurationMs,
    levels: normaliseLevels(policy, path, context, check),
    timeoutMs: ms(policy.timeout),
    reminderIntervalMs: msOrNever(policy.reminderInterval),
  };
}

function normalisePolicies(file: JitbotFile, context: PolicyContext, check: Checker): Policy[] {
  const firstByName = new Map<string, number>();
  return file.policies.map((policy, index) => {
    const path = ['policies', index];
    const first = firstByName.get(policy.name);
    if (first !== undefined) {
      check.problem(
        [...path, 'name'],
        `duplicate policy name "${policy.name}" (also ${check.where(['policies', first])}): names must be unique`,
      );
    } else {
      firstByName.set(policy.name, index);
    }
    policy.requesters?.groups.forEach((group, groupIndex) => {
      if (!context.knownGroups.has(group) && check.intact(['identities'])) {
        check.problem(
          [...path, 'requesters', 'groups', groupIndex],
          `no identity has group "${group}", so this policy could never apply: expected a group named under identities[].groups`,
        );
      }
    });
    const base = {
      name: policy.name,
      ...(policy.description !== undefined ? { description: policy.description } : {}),
      targets: normaliseTargets(policy.targets, [...path, 'targets'], context, check),
      ...(policy.requesters ? { requesters: { groups: [...policy.requesters.groups] } } : {}),
    };
    switch (policy.kind) {
      case 'deny':
        return { ...base, kind: 'deny', message: policy.message };
      case 'auto':
        return { ...base, kind: 'auto', maxDurationMs: ms(policy.maxDuration) };
      case 'manual':
        return normaliseManual(policy, path, base, context, check);
    }
  });
}

// ── adapters ─────────────────────────────────────────────────────────────────────────────────────────────

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A section that is present is enabled unless it says `enabled: false`. */
const sectionEnabled = (section: unknown): boolean =>
  section !== undefined && !(isRecord(section) && section.enabled === false);

function normaliseAdapters(
  file: JitbotFile,
  modules: readonly AdapterModule[],
  env: Env | undefined,
  check: Checker,
): AdaptersConfig {
  const sections: Record<string, unknown> = file.adapters;
  const names = modules.map((module) => module.name).join(', ');
  const listed = new Set<string>(modules.map((module) => module.name));
  for (const [name, section] of Object.entries(sections)) {
    if (listed.has(name) || !sectionEnabled(section)) continue;
    check.problem(
      ['adapters', name],
      `this version of jitbot has no ${name} adapter yet (adapters: ${names}): remove the section or set enabled: false`,
    );
  }

  let enabled = modules.filter((module) => sectionEnabled(sections[module.name]));
  if (enabled.length === 0)
    enabled = modules.filter((module) => module.fallback && sections[module.name] === undefined);

  const adapters: AdaptersConfig = {};
  for (const module of enabled) {
    const settings = normaliseAdapter(module, sections[module.name] ?? {}, file, env, check);
    if (settings !== undefined) adapters[module.name] = settings;
  }
  if (enabled.length === 0 && check.intact(['adapters'])) {
    check.problem(['adapters'], `no chat adapter is enabled: enable one of ${names}`);
  }
  return adapters;
}

/** An enabled adapter's section: its required keys, then the adapter's own checks and secrets. */
function normaliseAdapter(
  module: AdapterModule,
  section: unknown,
  file: JitbotFile,
  env: Env | undefined,
  check: Checker,
): object | undefined {
  const sectionPath = ['adapters', module.name];
  const full = enabledAdapterSectionSchema(module).safeParse(section);
  if (!full.success) {
    // Types were checked with the rest of the file, so what is left is required keys that are missing.
    for (const zodIssue of full.error.issues) {
      const path = [...sectionPath, ...zodIssue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))];
      for (const { message } of fromZodIssue(zodIssue, section)) {
        check.problem(path, message.replace(/^required\b/, `required when ${module.name} is enabled`));
      }
    }
    return undefined;
  }
  const keyPath = (key: string | undefined): ConfigPath => (key === undefined ? sectionPath : [...sectionPath, key]);
  const context: AdapterNormaliseContext = {
    secret: (key, reference, options) => {
      const path = keyPath(key);
      // A secret field with a shape problem (e.g. written inline) is reported already; its default is not read.
      if (!check.intact(path)) return undefined;
      if (reference === undefined) {
        if (options?.required) {
          check.problem(
            path,
            `required when ${module.name} is enabled: expected an environment reference like \${NAME}`,
          );
        }
        return undefined;
      }
      if (!env) return envRefName(reference) !== undefined ? '' : undefined;
      const lookup = readEnvRef(reference, env);
      if (lookup.ok) return lookup.value;
      check.problem(path, lookup.problem);
      return undefined;
    },
    env: (name) => env?.[name] || undefined,
    problem: (key, message) => check.problem(keyPath(key), message),
    warning: (key, message) => check.warning(keyPath(key), message),
    server: { host: file.server.host, port: file.server.port },
  };
  const { enabled: _enabled, ...own } = full.data;
  return module.normalise(own, context) as object;
}
