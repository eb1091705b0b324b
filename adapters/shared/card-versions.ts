// chat.update is last-writer-wins, and cards are redrawn from several places at once (the outbox after a change,
// the core after a stale click). This keeps each message's draws in order and skips a draw that is older than,
// or identical to, the one already shown. It lives in memory: after a restart the first draw always goes out.

interface Shown {
  version: number;
  digest: string;
}

export class CardVersions {
  private readonly shown = new Map<string, Shown>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly maxMessages = 5000) {}

  /** Records a card just posted. */
  posted(messageKey: string, version: number, digest: string): void {
    this.remember(messageKey, { version, digest });
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
      this.remember(messageKey, { version, digest });
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

  private remember(messageKey: string, shown: Shown): void {
    this.shown.delete(messageKey);
    this.shown.set(messageKey, shown);
    if (this.shown.size > this.maxMessages) {
      const oldest = this.shown.keys().next().value;
      if (oldest !== undefined) this.shown.delete(oldest);
    }
  }
}
