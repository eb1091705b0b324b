import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Platform } from '../core/model';
import type { ChatAdapter } from './chat';
import type { Clock } from './clock';

// How a chat platform plugs into jitbot: each `adapters/<platform>/index.ts` exports one AdapterModule, and
// `adapters/index.ts` lists them. The config loader and the app loop over that list; nothing else names a platform.

/** Schema pieces whose rules belong to the config loader, offered to an adapter's section schema. */
export interface AdapterSchemaKit {
  /** A secret field: only an `${ENV_VAR}` reference is accepted; the error proposes `suggestedVariable`. */
  secret(suggestedVariable: string): z.ZodString;
}

/** What an adapter's `normalise` may use besides its own section. Problems are reported under `adapters.<name>`. */
export interface AdapterNormaliseContext {
  /**
   * Reads the secret a `${NAME}` reference points at. An unset variable, or a missing reference when `required`,
   * is reported as a problem and gives undefined. Offline (`config validate --offline`) nothing is read: a
   * present reference gives '' and an unset variable is not a problem.
   */
  secret(key: string, reference: string | undefined, options?: { required?: boolean }): string | undefined;
  /** A non-secret environment variable (e.g. an API URL override); always undefined offline. */
  env(name: string): string | undefined;
  /** A problem with the section (`key` absent) or one of its keys; the config is rejected. */
  problem(key: string | undefined, message: string): void;
  /** Something that works but is probably not meant; printed, does not reject the config. */
  warning(key: string | undefined, message: string): void;
  /** Where jitbot's HTTP server listens (e.g. for an adapter that must stay on loopback). */
  server: Readonly<{ host: string; port: number }>;
}

/** Shared parts an adapter is built from, besides its own settings. */
export interface AdapterDeps {
  logger: Logger;
  clock: Clock;
  /** The channels on this platform that speak for approver roles in the config (`roles.<role>.channels.<name>`). */
  approverChannels: readonly { role: string; channelId: string }[];
  /** Read-only lists of recent requests and audit events, for an adapter that shows them (the local console). */
  views: AdapterViews;
  /**
   * Durable state of the adapter's own (the console keeps its messages here), in the adapter's namespace of jitbot's
   * store. Absent where nothing is kept (tests that build an adapter on its own).
   */
  records?: AdapterRecords;
}

/** Small JSON documents by key, kept in jitbot's store across restarts, for one adapter. */
export interface AdapterRecords {
  /** Creates or replaces `key`; `order` positions it for `list` (e.g. a message's place in history). */
  put(key: string, value: unknown, order?: number): Promise<void>;
  /** The value kept under `key`, if any. */
  get(key: string): Promise<unknown>;
  /** Records with an order, oldest first, or the newest `limit` when `newestFirst`. */
  list(options: { limit: number; newestFirst?: boolean }): Promise<{ key: string; value: unknown; order: number }[]>;
  delete(key: string): Promise<void>;
}

export interface AdapterViews {
  listRequests(): Promise<unknown[]>;
  listAudit(): Promise<unknown[]>;
}

/**
 * One chat platform, as the config and the app see it. `Section` is the zod schema of `adapters.<name>` in
 * jitbot.yaml (a strict object without `enabled`, which the loader adds; no refinements on the object itself).
 * The loader checks a section's types whenever it is present, but its required keys only when it is enabled.
 */
export interface AdapterModule<Section extends z.ZodObject = z.ZodObject, Settings = unknown> {
  /** The key under `adapters:` and the platform of member references such as `slack:U0123`. */
  readonly name: Platform;
  schema(kit: AdapterSchemaKit): Section;
  /** Checks across the section's keys, reads its secrets, and returns the settings `create` needs. */
  normalise(section: z.output<Section>, context: AdapterNormaliseContext): Settings;
  create(settings: Settings, deps: AdapterDeps): ChatAdapter;
  /**
   * The one spelling of a user id on this platform, for platforms whose ids compare without regard to case (Teams'
   * Entra object ids are GUIDs). Member references and identity rules in the config are stored in it, and the
   * adapter reports actors in it. Absent: ids are exact.
   */
  canonicalUserId?(userId: string): string;
  /**
   * Set on the one adapter jitbot falls back to: it is enabled when the config enables no other adapter, and its
   * `demoConfig` (YAML) is what jitbot runs when there is no config file at all.
   */
  readonly fallback?: { demoConfig: string };
  /** A line for the person starting jitbot, once the server listens at `serverUrl` (e.g. the console's address). */
  startupNote?(serverUrl: string): string;
}

/** Declares a module with its section and settings types inferred (the list holds modules of any types). */
export function defineAdapterModule<Section extends z.ZodObject, Settings>(
  module: AdapterModule<Section, Settings>,
): AdapterModule<Section, Settings> {
  return module;
}
