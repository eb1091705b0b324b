import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

// Platforms' message updates (Slack chat.update, Feishu PATCH, Teams updateActivity) are last-writer-wins, and cards are redrawn from several places at once (the outbox after a change,
// the core after a stale click). This keeps each message's draws in order and skips a draw that is older than,
// or identical to, the one already shown. It lives in memory: after a restart the first draw always goes out.

interface Shown {
  version: number;
  digest: string;
}

export class CardVersions {
  private readonly shown: LRUCache<string, Shown>;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(maxMessages = 5000) {
    this.shown = new LRUCache({ max: maxMessages });
  }

  /** Records a card just posted, or shown by other means (e.g. returned in a click's response). */
  posted(messageKey: string, version: number, digest: string): void {
    this.shown.set(messageKey, { version, digest });
  }

  /**
   * Runs `draw` after any earlier draw of the same message, unless what it would show is stale or already shown.
   * Returns whether it drew.
   */
  async update(messageKey: string, version: number, digest: string, draw: () => Promise<void>): Promise<boolean> {
    const previous = this.queues.get(messageKey) ?? Promise.resolve();
    let drew = false;
    const run = previous.then(async () => {
      const current = this.shown.get(messageKey);
      if (current && (version < current.version || (version === current.version && digest === current.digest))) return;
      await draw();
      drew = true;
      this.shown.set(messageKey, { version, digest });
    });
    // A failed draw must not block later ones; its error still reaches this caller.
    const settled = run.catch(() => undefined);
    this.queues.set(messageKey, settled);
    try {
      await run;
    } finally {
      if (this.queues.get(messageKey) === settled) this.queues.delete(messageKey);
    }
    return drew;
  }
}

/** A short fingerprint of what a platform was sent for a card, so an identical redraw can be skipped. */
export function renderedDigest(rendered: unknown): string {
  return createHash('sha256').update(JSON.stringify(rendered)).digest('hex');
}
