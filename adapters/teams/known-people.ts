import { LRUCache } from 'lru-cache';
import type { HttpLogger } from '../../src/http/server';
import type { AdapterRecords } from '../../src/ports/adapter-module';
import type { TeamsMember } from './connector';

// What the adapter knows about people on Teams, by Entra object id (lower-cased: GUIDs ignore case). Teams can
// only reach a person through ids it learns from their activities (or a look-up within a conversation), so the
// ids needed to DM them are kept in the adapter's records: after a restart, a DM to someone seen before works
// before they write again. Only ids are kept, never names or emails (those are looked up when needed).
// - Written when what is known changes, never on each event: a second click from a known person writes nothing.
// - Written behind the event (the caller never waits), one write at a time, in the order seen.
// - Read once per person on first need after a restart; a store failure is logged, never thrown.

/** How to reach a person, as kept across restarts. */
export interface Reach {
  /** App-scoped id (`29:…`), needed to open the 1:1 chat. */
  fromId?: string;
  /** The conversation they were last seen in (member look-ups happen in a conversation). */
  conversationId?: string;
  /** The bot's 1:1 chat with them. */
  personalChat?: string;
}

const REACH_FIELDS = ['fromId', 'conversationId', 'personalChat'] as const;

/** A person in memory: how to reach them, and their member details for a while. */
export interface Person extends Reach {
  member?: TeamsMember;
  memberUntil?: number;
}

interface Entry extends Person {
  /** The stored record was read (or found absent): a change can be told from what is kept. */
  loaded?: boolean;
  loading?: Promise<void>;
  /** What the store holds, as far as this process knows. */
  kept?: Reach;
}

const RECORD_PREFIX = 'person:';

export class KnownPeople {
  private readonly people = new LRUCache<string, Entry>({ max: 10_000 });
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: { records?: AdapterRecords; logger: HttpLogger }) {}

  /** The person, with what was kept before a restart read in the first time they are needed. */
  async get(userId: string): Promise<Person> {
    const key = keyOf(userId);
    const entry = this.entry(key);
    if (!entry.loaded) await this.load(key, entry);
    return entry;
  }

  /** Something learned about how to reach a person: used at once, and kept (behind the caller) when it is new. */
  learned(userId: string, reach: Reach): void {
    const key = keyOf(userId);
    const entry = this.entry(key);
    for (const field of REACH_FIELDS) if (reach[field] !== undefined) entry[field] = reach[field];
    if (!this.options.records || (entry.loaded && sameReach(entry, entry.kept))) return;
    this.writing = this.writing.then(() => this.keep(key, entry));
  }

  /** Resolves when what was learned so far is written. */
  idle(): Promise<void> {
    return this.writing;
  }

  private entry(key: string): Entry {
    let entry = this.people.get(key);
    if (!entry) {
      entry = {};
      this.people.set(key, entry);
    }
    return entry;
  }

  /** Reads the kept record once (concurrent callers share the read); what memory knows already wins. */
  private load(key: string, entry: Entry): Promise<void> {
    const records = this.options.records;
    if (!records) {
      entry.loaded = true;
      return Promise.resolve();
    }
    entry.loading ??= records
      .get(RECORD_PREFIX + key)
      .then((value) => {
        const kept = reachOf(value);
        for (const field of REACH_FIELDS) entry[field] ??= kept[field];
        entry.kept = kept;
        entry.loaded = true;
      })
      .catch((error: unknown) => {
        this.warn(error, 'could not read how to reach a Teams user; going by what this process has seen');
      })
      .finally(() => {
        entry.loading = undefined;
      });
    return entry.loading;
  }

  private async keep(key: string, entry: Entry): Promise<void> {
    const records = this.options.records;
    if (!records) return;
    if (!entry.loaded) await this.load(key, entry);
    const reach = reachOf(entry);
    if (entry.loaded && sameReach(reach, entry.kept)) return;
    try {
      await records.put(RECORD_PREFIX + key, reach);
      entry.kept = reach;
      entry.loaded = true;
    } catch (error) {
      this.warn(error, 'could not keep how to reach a Teams user; a DM to them after a restart needs them seen again');
    }
  }

  private warn(error: unknown, message: string): void {
    this.options.logger.warn(
      { platform: 'teams', err: error instanceof Error ? error.message : String(error) },
      message,
    );
  }
}

function keyOf(userId: string): string {
  return userId.toLowerCase();
}

/** The ids of a record or an entry (anything else it holds is not kept). */
function reachOf(value: unknown): Reach {
  const reach: Reach = {};
  if (value === null || typeof value !== 'object') return reach;
  for (const field of REACH_FIELDS) {
    const id = (value as Record<string, unknown>)[field];
    if (typeof id === 'string' && id) reach[field] = id;
  }
  return reach;
}

function sameReach(a: Reach, b: Reach | undefined): boolean {
  return REACH_FIELDS.every((field) => a[field] === b?.[field]);
}
