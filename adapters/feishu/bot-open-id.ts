import type { InboundLogger } from '../shared/inbound-dispatcher';

/** How long a message's translation waits for the bot's open_id: it runs before Feishu is acknowledged. */
export const BOT_OPEN_ID_WAIT_MS = 1000;

/**
 * The bot's open_id (group messages count as commands only when they mention it). Looked up once and kept; callers
 * that ask while a look-up is under way share it; a look-up that fails is forgotten, so the next caller tries again.
 * `wait` gives up after a short time, leaving the look-up running for those who come later: a slow Feishu API must
 * not hold up the acknowledgements of a burst of events.
 */
export class BotOpenId {
  private known: string | undefined;
  private inFlight: Promise<string | undefined> | undefined;

  constructor(
    private readonly lookUp: () => Promise<string>,
    private readonly logger: InboundLogger,
    private readonly waitMs = BOT_OPEN_ID_WAIT_MS,
  ) {}

  /** The open_id, or undefined when it is not known within the wait (or the look-up failed). */
  async wait(): Promise<string | undefined> {
    if (this.known !== undefined) return this.known;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.waitMs);
      timer.unref();
    });
    try {
      const found = await Promise.race([this.lookUpOnce(), gaveUp]);
      if (found === undefined)
        this.logger.warn(
          { platform: 'feishu' },
          "the feishu bot's open_id is not known yet: a group message is taken as not mentioning it, and ignored",
        );
      return found;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Looks the open_id up now (start-up); rejects with the look-up's error so the caller can tell what it was. */
  async check(): Promise<string> {
    const openId = await this.lookUp();
    this.known = openId;
    return openId;
  }

  private lookUpOnce(): Promise<string | undefined> {
    this.inFlight ??= this.lookUp().then(
      (openId) => {
        this.known = openId;
        this.inFlight = undefined;
        return openId;
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.logger.warn(
          { platform: 'feishu', err: error instanceof Error ? error.message : String(error) },
          'could not look up the feishu bot; trying again with the next message',
        );
        return undefined;
      },
    );
    return this.inFlight;
  }
}
