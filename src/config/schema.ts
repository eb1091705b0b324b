import { z } from 'zod';
import { parseDuration } from '../core/duration';
import { canonicalMemberRef } from '../core/identity';
import { PLATFORMS } from '../core/model';
import type { AdapterModule, AdapterSchemaKit } from '../ports/adapter-module';
import { ENV_REF_RE, inlineSecretMessage } from './env-refs';
import { LOCALES } from './types';

// The shape of jitbot.yaml as people write it. Checks that involve one field live here; checks across fields
// (role references, unique names, min ≤ default ≤ max, partitions, …) are in normalise.ts. Each chat adapter
// brings the schema of its own `adapters.<name>` section (see src/ports/adapter-module.ts).

const DURATION_HINT = 'expected a duration like 30m, 2h, 1d or 1h30m';

const duration = z.string({ error: DURATION_HINT }).refine((text) => parseDuration(text) !== undefined, {
  error: (issue) => `"${String(issue.input)}" is not a duration: ${DURATION_HINT}`,
});

/** A duration where 0 switches the feature off. */
const durationOrNever = z
  .union([z.string(), z.number()], { error: `${DURATION_HINT}, or 0 for never` })
  .refine((value) => isNever(value) || (typeof value === 'string' && parseDuration(value) !== undefined), {
    error: (issue) => `"${String(issue.input)}" is not a duration: ${DURATION_HINT}, or 0 for never`,
  });

export function isNever(value: string | number): boolean {
  return value === 0 || (typeof value === 'string' && /^0[dhms]?$/.test(value.trim()));
}

const ACCOUNT_HINT = 'expected a 12-digit AWS account id (quote it: "012345678901")';
/**
 * YAML reads an unquoted account id as a number. One written with leading zeros is kept as its text by the loader
 * (load.ts), so a number here was written without them and must have all 12 digits.
 */
const accountId = z
  .union([z.string(), z.number()], { error: ACCOUNT_HINT })
  .refine((value) => (typeof value === 'string' ? /^\d{12}$/ : /^[1-9]\d{11}$/).test(String(value)), {
    error: (issue) => `${JSON.stringify(issue.input)} is not ${ACCOUNT_HINT.replace('expected ', '')}`,
  });

const REGION_RE = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const REGION_HINT = 'expected a region name like cn-north-1';
const region = z.string({ error: REGION_HINT }).regex(REGION_RE, { error: REGION_HINT });

const NODE_ID_RE = /^(?:i-[0-9a-f]{8}(?:[0-9a-f]{9})?|mi-[0-9a-f]{17})$/;
const nodeId = z
  .string({ error: 'expected a node id like i-0123456789abcdef0 or mi-0123456789abcdef0' })
  .regex(NODE_ID_RE, { error: 'expected a node id like i-0123456789abcdef0 or mi-0123456789abcdef0' });

/** Tag values: YAML may read `Tier: 1` or `Public: true` as a number or boolean; they are compared as text. */
const tags = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()], { error: 'expected a tag value (text)' }),
);

const NAME_HINT = 'expected a name of letters, digits, ".", "_" or "-" starting with a letter or digit (max 64)';
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const name = z.string({ error: NAME_HINT }).regex(NAME_RE, { error: NAME_HINT });

const MEMBER_HINT = `expected an email address or platform:userId (platform: ${PLATFORMS.join(', ')})`;
const memberRef = z.string({ error: MEMBER_HINT }).refine((text) => canonicalMemberRef(text) !== undefined, {
  error: (issue) => `"${String(issue.input)}" is not ${MEMBER_HINT.replace('expected ', '')}`,
});

const USER_ID_HINT = 'expected the chat user id as text (quote numeric ids: "0123")';
const userId = z.string({ error: USER_ID_HINT }).min(1, { error: USER_ID_HINT });

const url = (hint: string) => z.url({ error: hint });

/** A secret: only `${ENV_VAR}` is accepted; `suggestedVariable` is the name the error message proposes. */
const secret = (suggestedVariable: string): z.ZodString => {
  const message = inlineSecretMessage(suggestedVariable);
  return z.string({ error: message }).regex(ENV_REF_RE, { error: message });
};

const PARTITION = 'aws[a-z-]*';
const PATH_AND_NAME = String.raw`(?:[\w+=,.@-]+/)*[\w+=,.@-]+`;
export const IAM_USER_ARN_RE = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):user/${PATH_AND_NAME}$`);
export const IAM_ROLE_ARN_RE = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):role/${PATH_AND_NAME}$`);
export const PERMISSION_SET_ARN_RE = new RegExp(
  `^arn:(${PARTITION}):sso:::permissionSet/ssoins-[0-9a-f]+/ps-[0-9a-f]+$`,
);

const arn = (re: RegExp, example: string) =>
  z.string({ error: `expected an ARN like ${example}` }).regex(re, { error: `expected an ARN like ${example}` });

const SESSION_NAME_HINT =
  'expected a session-name pattern of letters, digits, "+=,.@-" and the placeholders {email}, {userId}, {name}';
const sessionNamePattern = z
  .string({ error: SESSION_NAME_HINT })
  .regex(/^(?:[\w+=,.@-]|\{(?:email|userId|name)\})+$/, { error: SESSION_NAME_HINT });

// ---------------------------------------------------------------------------------------------------------------

const PORT_HINT = 'expected a port number from 0 to 65535';
const REPLICA_ID_HINT =
  'expected a replica id of 1–64 letters, digits, ".", "_" or "-" (e.g. jitbot-0), or ${NAME} to read it from the environment';
const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int({ error: PORT_HINT }).min(0, { error: PORT_HINT }).max(65535, { error: PORT_HINT }).default(3000),
  replicaId: z
    .string({ error: REPLICA_ID_HINT })
    .regex(/^(?:[A-Za-z0-9._-]{1,64}|\$\{[A-Za-z_][A-Za-z0-9_]*\})$/, { error: REPLICA_ID_HINT })
    .optional(),
});

const awsAccountSchema = z.strictObject({
  id: accountId,
  name: z.string({ error: 'expected a display name for the account' }).min(1),
  assumeRoleArn: arn(IAM_ROLE_ARN_RE, 'arn:aws-cn:iam::111122223333:role/jitbot').optional(),
  externalId: secret('JITBOT_EXTERNAL_ID').optional(),
});

/**
 * A list that must not be empty. `minimums: false` is for the loader's second look at a file with problems
 * (partial-parse.ts): a list whose bad elements were left out may be empty then, and must not take its owner (the
 * whole `aws` section, a policy) with it. The first look, which reports problems, always checks minimums.
 */
function nonEmpty<T extends z.ZodArray>(list: T, minimums: boolean, message: string): T {
  return minimums ? list.min(1, { error: message }) : list;
}

const awsSchema = (minimums: boolean) =>
  z.strictObject({
    regions: nonEmpty(z.array(region), minimums, 'expected at least one region, e.g. [cn-north-1]'),
    accounts: nonEmpty(z.array(awsAccountSchema), minimums, 'expected at least one account'),
    dryRun: z.boolean().default(false),
  });

const dynamodbSchema = z.strictObject({
  table: z.string().min(3).max(255).default('jitbot'),
  endpoint: url('expected a URL like http://127.0.0.1:8000').optional(),
  region: region.optional(),
  createTable: z.boolean().default(false),
});

const embeddedSchema = z.strictObject({
  inMemory: z.boolean().optional(),
  dataDir: z.string().min(1).optional(),
});

const identityMatchSchema = z.strictObject({
  email: z.email({ error: 'expected an email address' }).optional(),
  platform: z.enum(PLATFORMS, { error: `expected one of ${PLATFORMS.join(', ')}` }).optional(),
  userId: userId.optional(),
  emailDomain: z
    .string({ error: 'expected a domain like example.cn' })
    .regex(/^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/, { error: 'expected a domain like example.cn (without "@")' })
    .optional(),
});

const principalSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('iam-user'),
      arn: arn(IAM_USER_ARN_RE, 'arn:aws-cn:iam::111122223333:user/dana'),
    }),
    z.strictObject({
      kind: z.literal('iam-role'),
      arn: arn(IAM_ROLE_ARN_RE, 'arn:aws-cn:iam::111122223333:role/engineers'),
      sessionName: sessionNamePattern,
    }),
    z.strictObject({
      kind: z.literal('sso-permission-set'),
      permissionSetArn: arn(
        PERMISSION_SET_ARN_RE,
        'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
      ),
      policyName: z
        .string({ error: 'expected the name of the customer-managed policy the permission set references' })
        .regex(/^[\w+=,.@-]{1,128}$/, { error: 'expected an IAM policy name (letters, digits, "+=,.@-_", max 128)' }),
      sessionName: sessionNamePattern.default('{email}'),
    }),
  ],
  { error: 'expected kind to be one of iam-user, iam-role, sso-permission-set' },
);

const identitySchema = z.strictObject({
  match: identityMatchSchema,
  principal: principalSchema,
  groups: z.array(name).default([]),
});

const channelsSchema = z.strictObject(
  Object.fromEntries(PLATFORMS.map((platform) => [platform, z.string().min(1).optional()])) as Record<
    (typeof PLATFORMS)[number],
    z.ZodOptional<z.ZodString>
  >,
);

const roleSchema = z.strictObject({
  description: z.string().optional(),
  members: z.array(memberRef).default([]),
  channels: channelsSchema.prefault({}),
});

const targetsSchema = z.strictObject({
  ids: z.array(nodeId).optional(),
  tags: tags.optional(),
  accounts: z.array(accountId).optional(),
  regions: z.array(region).optional(),
  all: z.literal(true, { error: 'expected all: true (or leave it out)' }).optional(),
});

const REQUIRED_HINT = 'expected a number from 1 to 5';
const levelSchema = z.strictObject({
  roles: z.array(name).optional(),
  users: z.array(memberRef).optional(),
  required: z
    .int({ error: REQUIRED_HINT })
    .min(1, { error: REQUIRED_HINT })
    .max(5, { error: REQUIRED_HINT })
    .default(1),
});

const policyBase = (minimums: boolean) => ({
  name,
  description: z.string().optional(),
  targets: targetsSchema,
  requesters: z.strictObject({ groups: nonEmpty(z.array(name), minimums, 'expected at least one group') }).optional(),
});

const LEVELS_HINT = 'expected 1 to 5 approval levels';
const policySchema = (minimums: boolean) =>
  z.discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('deny'),
        ...policyBase(minimums),
        message: z.string({ error: 'expected the message shown to the requester' }).min(1),
      }),
      z.strictObject({ kind: z.literal('auto'), ...policyBase(minimums), maxDuration: duration.default('1h') }),
      z.strictObject({
        kind: z.literal('manual'),
        ...policyBase(minimums),
        minDuration: duration.default('1h'),
        maxDuration: duration.default('336h'),
        defaultDuration: duration.optional(),
        levels: nonEmpty(
          z.array(levelSchema, { error: 'expected a list of 1 to 5 approval levels' }),
          minimums,
          LEVELS_HINT,
        ).max(5, { error: LEVELS_HINT }),
        timeout: duration.default('24h'),
        reminderInterval: durationOrNever.default('4h'),
      }),
    ],
    { error: 'expected kind to be one of deny, auto, manual' },
  );

/** Shortest `timeouts.replayMaxAge`: below this, an event a restart interrupted could hardly ever be replayed. */
export const REPLAY_MAX_AGE_MIN = '1m';

const timeoutsSchema = z.strictObject({
  expiryWarning: durationOrNever.default('10m'),
  deliveryDedupe: duration.default('12h'),
  replayMaxAge: duration
    .refine((text) => (parseDuration(text) ?? Infinity) >= parseDuration(REPLAY_MAX_AGE_MIN)!, {
      error: (issue) =>
        `"${String(issue.input)}" is too short: a click or command a restart interrupted is replayed only if it is younger than this; use at least ${REPLAY_MAX_AGE_MIN} (default 15m)`,
    })
    .default('15m'),
});

const PING_STATUSES = ['Online', 'ConnectionLost', 'Inactive', 'NotRegistered'] as const;
const nodeSchema = z.strictObject({
  id: nodeId,
  name: z.string().min(1).optional(),
  account: accountId,
  region,
  tags: tags.default({}),
  state: z.string().optional(),
  pingStatus: z.enum(PING_STATUSES, { error: `expected one of ${PING_STATUSES.join(', ')}` }).optional(),
});

const inventorySchema = z.strictObject({
  demo: z.boolean().default(false),
  nodes: z.array(nodeSchema).default([]),
  cardTags: z.array(z.string().min(1)).default(['Env', 'Owner']),
});

/** What adapter section schemas may use (the rules for secrets stay here). */
const ADAPTER_SCHEMA_KIT: AdapterSchemaKit = { secret };

/** A section's own keys, all optional (required keys are checked only when the adapter is enabled), plus `enabled`. */
export function adapterSectionSchema(module: AdapterModule) {
  return module.schema(ADAPTER_SCHEMA_KIT).partial().extend({ enabled: z.boolean().optional() });
}

/** The full section schema of an enabled adapter: its required keys are required. */
export function enabledAdapterSectionSchema(module: AdapterModule) {
  return module.schema(ADAPTER_SCHEMA_KIT).extend({ enabled: z.boolean().optional() });
}

/**
 * `adapters`: one section per listed adapter. A platform jitbot knows of but has no adapter for yet is accepted
 * here as anything, so normalise.ts can say that its adapter does not exist rather than "unknown key".
 */
function adaptersSchema(adapters: readonly AdapterModule[]) {
  const listed = new Set<string>(adapters.map((module) => module.name));
  const shape: Record<string, z.ZodType> = {};
  for (const module of adapters) shape[module.name] = adapterSectionSchema(module).optional();
  for (const platform of PLATFORMS) {
    if (!listed.has(platform))
      shape[platform] = z.unknown().optional().describe(`this version of jitbot has no ${platform} adapter`);
  }
  return z.strictObject(shape);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schema of jitbot.yaml for the given adapters (`minimums`: see nonEmpty). */
export function jitbotSchema(adapters: readonly AdapterModule[], { minimums = true }: { minimums?: boolean } = {}) {
  return z.strictObject({
    locale: z.enum(LOCALES, { error: `expected one of ${LOCALES.join(', ')}` }).default('en'),
    timeZone: z
      .string()
      .refine(isTimeZone, {
        error: (issue) => `"${String(issue.input)}" is not an IANA time zone like Asia/Shanghai or UTC`,
      })
      .default('UTC'),
    server: serverSchema.prefault({}),
    aws: awsSchema(minimums).optional(),
    dynamodb: dynamodbSchema.optional(),
    embedded: embeddedSchema.optional(),
    identities: z.array(identitySchema).default([]),
    roles: z.record(z.string(), roleSchema).default({}),
    admins: z.array(memberRef).default([]),
    policies: z.array(policySchema(minimums)).default([]),
    timeouts: timeoutsSchema.prefault({}),
    audit: z.strictObject({ retentionDays: z.int().min(1).default(400) }).prefault({}),
    sweeper: z.strictObject({ interval: duration.default('10s') }).prefault({}),
    inventory: inventorySchema.prefault({}),
    adapters: adaptersSchema(adapters).prefault({}),
  });
}

/** The file as written (before defaults). */
export type JitbotFileInput = z.input<ReturnType<typeof jitbotSchema>>;
/** The file after schema defaults, before normalisation. */
export type JitbotFile = z.output<ReturnType<typeof jitbotSchema>>;

/** JSON Schema (draft 2020-12) of jitbot.yaml, for editors: `# yaml-language-server: $schema=…`. */
export function jitbotJsonSchema(adapters: readonly AdapterModule[]): Record<string, unknown> {
  return {
    ...z.toJSONSchema(jitbotSchema(adapters), { io: 'input', unrepresentable: 'any' }),
    title: 'jitbot configuration (jitbot.yaml)',
  };
}

/** Keys that do not exist but that people reach for, with what to do instead. */
export const UNKNOWN_KEY_HINTS: Readonly<Record<string, string>> = {
  'aws.partition': 'the partition is derived from aws.regions (cn-* regions are aws-cn)',
};
