import type { AdapterRecords } from '../../src/ports/adapter-module';
import { WORKSPACE_LIMITS, type ConsoleMessage, type ConsoleWorkspace, type MessageChange } from './workspace';

// The console's messages outlive a restart: every message (cards with their threads, DMs, what people typed) is
// kept in jitbot's store as it changes, and put back when the console starts. Without this a pending request's
// card would be gone after `npm start` again, and nobody could approve it. Ephemeral replies are not kept.

interface KeptMessage {
  conversationId: string;
  message: ConsoleMessage;
}

interface Logger {
  warn(obj: object, msg: string): void;
}

export class KeptMessages {
  /** One queue for every write, so they land in the order they were made. */
  private writes: Promise<void> = Promise.resolve();
  private following: (() => void) | undefined;

  constructor(
    private readonly workspace: ConsoleWorkspace,
    private readonly records: AdapterRecords,
    private readonly logger: Logger,
  ) {}

  /** Puts back the newest messages of the previous runs (as many as the workspace holds); returns how many. */
  async load(): Promise<number> {
    const conversations = this.workspace.listChannels().length + this.workspace.listUsers().length;
    const kept = await this.records.list({
      limit: WORKSPACE_LIMITS.messagesPerConversation * conversations,
      newestFirst: true,
    });
    let restored = 0;
    for (const { value } of kept.reverse()) {
      if (isKeptMessage(value) && this.workspace.restore(value.conversationId, value.message)) restored++;
    }
    return restored;
  }

  /** From now on, every change to a message is written to the store. */
  follow(): void {
    this.following ??= this.workspace.onMessageChange((change) => this.keep(change));
  }

  /**
   * Waits for the writes queued so far. It keeps following: effects the outbox finishes while jitbot shuts down
   * still reach the store if it is open.
   */
  async flush(): Promise<void> {
    await this.writes;
  }

  private keep(change: MessageChange): void {
    // Copied now: the workspace edits its message objects in place later.
    const write =
      change.kind === 'saved'
        ? (
            (kept: KeptMessage) => () =>
              this.records.put(kept.message.id, kept, kept.message.order)
          )({
            conversationId: change.conversationId,
            message: structuredClone(change.message),
          })
        : () => this.records.delete(change.messageId);
    this.writes = this.writes.then(write).catch((error: unknown) => {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not keep a console message; it is lost on restart',
      );
    });
  }
}

function isKeptMessage(value: unknown): value is KeptMessage {
  const kept = value as Partial<KeptMessage> | null;
  return (
    typeof kept?.conversationId === 'string' &&
    typeof kept.message?.id === 'string' &&
    typeof kept.message.order === 'number' &&
    Array.isArray(kept.message.thread)
  );
}
