import { LRUCache } from 'lru-cache';

// A card returned in a click's response and a PATCH of the same message race: Feishu shows whichever it applies
// last, and the outbox redraws the card (e.g. "access active") moments after the click was answered. So a click's
// response never carries a card older than one already drawn, and a PATCH of a message whose card was just given
// in a response waits until that response has had time to reach Feishu. Real time, not the injected clock: this
// is about the network.
// A card given in a response does not count as drawn: it may never reach Feishu (the response is late or lost),
// so the outbox's PATCH of the same version is still sent, after the settle time, and leaves no live buttons.

/** How long after a response card a PATCH of the same message waits: Feishu applies responses within this. */
export const RESPONSE_SETTLE_MS = 1000;

export class ClickResponses {
  /** The newest card version drawn (posted or PATCHed) per message. */
  private readonly drawn = new LRUCache<string, number>({ max: 5000 });
  /** When a card was last given in a click's response, per message. */
  private readonly answered = new LRUCache<string, number>({ max: 5000 });

  constructor(private readonly settleMs: number = RESPONSE_SETTLE_MS) {}

  /** Whether `version` may go in a click's response (nothing newer is shown already); if so, notes it. */
  mayAnswerWith(messageId: string, version: number): boolean {
    if ((this.drawn.get(messageId) ?? -1) > version) return false;
    this.answered.set(messageId, Date.now());
    return true;
  }

  drew(messageId: string, version: number): void {
    this.drawn.set(messageId, Math.max(version, this.drawn.get(messageId) ?? -1));
  }

  /** Resolves once a response card given for this message has had time to be applied. */
  async settled(messageId: string): Promise<void> {
    const at = this.answered.get(messageId);
    const wait = at === undefined ? 0 : at + this.settleMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
