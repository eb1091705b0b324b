import type { Node, Platform } from '../core/model';
import type { IdentityRule, RoleConfig } from '../core/identity-model';
import type { Policy } from '../core/policy-model';

// The normalised configuration every other module works with: defaults applied, durations in milliseconds,
// secrets read from the environment, policies in the core `Policy` shape. Produced only by loadConfig.

export const LOCALES = ['en', 'zh-CN', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

export interface AwsAccountConfig {
  /** 12 digits. */
  id: string;
  name: string;
  /** Role the bot assumes to work in this account; absent: the bot's own credentials are in this account. */
  assumeRoleArn?: string;
  /** Read from the environment. */
  externalId?: string;
}

export interface AwsConfig {
  /** Derived from the regions (cn-* → aws-cn), never configured. */
  partition: string;
  regions: string[];
  accounts: AwsAccountConfig[];
  /** True when no `aws` section is configured (or `aws.dryRun: true`): nothing is written to AWS. */
  dryRun: boolean;
}

export type StoreConfig =
  /** `region` absent: the SDK's own resolution (AWS_REGION, profile). */
  | { kind: 'dynamodb'; table: string; region?: string; endpoint?: string; createTable: boolean }
  /** Embedded (SQLite): the file `jitbot.db` under `dataDir` (default ./.jitbot) unless `inMemory`. */
  | { kind: 'embedded'; inMemory: boolean; dataDir?: string };

export type { IdentityMatch, IdentityRule, PrincipalTemplate, RoleConfig } from '../core/identity-model';

/**
 * The settings of each enabled chat adapter, by adapter name, as that adapter's module normalised them
 * (secrets read). Disabled adapters are absent.
 */
export type AdaptersConfig = Partial<Record<Platform, object>>;

export interface JitbotConfig {
  locale: Locale;
  /** IANA time zone for times shown to people. */
  timeZone: string;
  /**
   * `replicaId`: this replica's lease-owner id, stable across restarts (configured, or absent: the embedded store
   * keeps one in its data directory; with DynamoDB and none configured, each start gets a fresh one).
   */
  server: { host: string; port: number; replicaId?: string };
  aws: AwsConfig;
  store: StoreConfig;
  identities: IdentityRule[];
  /** Approver roles by name, in file order. */
  roles: Record<string, RoleConfig>;
  /** `platform:userId` or email addresses (lower-cased). */
  admins: string[];
  policies: Policy[];
  timeouts: {
    expiryWarningMs: number;
    deliveryDedupeMs: number;
    /** An inbound event older than this when a replay reaches it is dropped (the person is told), not applied. */
    replayMaxAgeMs: number;
  };
  audit: { retentionDays: number };
  sweeper: { intervalMs: number };
  inventory: {
    /** True when the built-in demo nodes were added (they are already in `nodes`). */
    demo: boolean;
    nodes: Node[];
    /** Node tags shown on approval cards. */
    cardTags: string[];
  };
  adapters: AdaptersConfig;
}
