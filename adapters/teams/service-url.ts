import type { HttpLogger } from '../../src/http/server';
import type { AdapterRecords } from '../../src/ports/adapter-module';
import { stripTrailingSlash } from './settings';

// The Bot Connector outbound calls go to. It starts as the configured one (or the cloud's default), is replaced by
// the service URL a verified activity names (the tenant's own, regional connector), and that URL is kept in the
// adapter's records so that after a restart posts, updates and DMs go to the right connector before anyone has
// written to the bot again. Matters most for Teams operated by 21Vianet, whose connector has no reliable default.

const RECORD_KEY = 'service-url';

export class KnownServiceUrl {
  private current: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    initial: string,
    private readonly options: { records?: AdapterRecords; logger: HttpLogger },
  ) {
    this.current = stripTrailingSlash(initial);
  }

  get value(): string {
    return this.current;
  }

  /** Takes the service URL last learned (before a restart, or on another replica), when there is one. */
  async load(): Promise<void> {
    const records = this.options.records;
    if (!records) return;
    try {
      const kept = (await records.get(RECORD_KEY)) as { serviceUrl?: unknown } | undefined;
      const url = kept?.serviceUrl;
      if (typeof url === 'string' && /^https?:\/\//.test(url)) this.current = stripTrailingSlash(url);
    } catch (error) {
      this.options.logger.warn(
        { platform: 'teams', err: error instanceof Error ? error.message : String(error) },
        'could not read the Bot Connector service URL learned before; using the configured one until Teams names it',
      );
    }
  }

  /** A verified activity named this service URL: used from now on, and kept when it is new. */
  seen(serviceUrl: string): void {
    const url = stripTrailingSlash(serviceUrl);
    if (url === this.current) return;
    this.current = url;
    this.options.logger.info({ platform: 'teams', serviceUrl: url }, 'teams service URL learned');
    const records = this.options.records;
    if (!records) return;
    // One write at a time, in the order seen, so the last URL seen is the one kept.
    this.writing = this.writing.then(() =>
      records.put(RECORD_KEY, { serviceUrl: url }).catch((error: unknown) => {
        this.options.logger.warn(
          { platform: 'teams', err: error instanceof Error ? error.message : String(error) },
          'could not keep the Bot Connector service URL; it is used now but forgotten at a restart',
        );
      }),
    );
  }

  /** Resolves when what was seen so far is written. */
  idle(): Promise<void> {
    return this.writing;
  }
}
