import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, Platform, UserRef } from '../../src/core/model';
import type { ChatAdapter, ChatCapabilities, InboundEvent, InboundHandler, Reply, ResolvedUser } from '../../src/ports/chat';

/** An in-memory chat platform for service tests: records every outbound call, lets tests inject failures. */
export class RecordingAdapter implements ChatAdapter {
  readonly capabilities: ChatCapabilities = { threads: true, ephemeral: true, inlineInputs: true, updateInPlace: true, emailLookup: true };
  readonly posted: { channel: ChannelRef; card: ApprovalCard; message: MessageRef }[] = [];
  readonly updates: { message: MessageRef; card: ApprovalCard }[] = [];
  readonly threads: { message: MessageRef; text: string }[] = [];
  readonly dms: { user: UserRef; text: string }[] = [];
  /** Failures to inject: the next N calls of a method throw. */
  readonly failNext: Partial<Record<'postCard' | 'updateCard' | 'replyInThread' | 'notifyUser', number>> = {};
  private handler: InboundHandler | undefined;
  private seq = 0;

  constructor(
    readonly platform: Platform,
    private readonly emails: Record<string, string> = {},
  ) {}

  async start(onEvent: InboundHandler): Promise<void> {
    this.handler = onEvent;
  }

  async stop(): Promise<void> {
    this.handler = undefined;
  }

  /** Delivers an event as the platform would. */
  send(event: InboundEvent): Promise<Reply> {
    if (!this.handler) throw new Error('adapter not started');
    return this.handler(event);
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    this.maybeFail('postCard');
    const message = { platform: this.platform, channelId: channel.channelId, messageId: `m${++this.seq}` };
    this.posted.push({ channel, card, message });
    return message;
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    this.maybeFail('updateCard');
    this.updates.push({ message, card });
  }

  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    this.maybeFail('replyInThread');
    this.threads.push({ message, text });
    return { ...message, messageId: `r${++this.seq}`, threadId: message.messageId };
  }

  async notifyUser(user: UserRef, text: string): Promise<void> {
    this.maybeFail('notifyUser');
    this.dms.push({ user, text });
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    return { userId: user.userId, displayName: user.displayName, email: this.emails[user.userId] };
  }

  /** The latest card drawn for a request (posted or updated). */
  latestCard(requestId: string): ApprovalCard | undefined {
    const drawn = [...this.posted.map((p) => p.card), ...this.updates.map((u) => u.card)].filter((c) => c.requestId === requestId);
    return drawn.sort((a, b) => a.version - b.version)[drawn.length - 1];
  }

  private maybeFail(method: keyof RecordingAdapter['failNext']): void {
    const left = this.failNext[method] ?? 0;
    if (left > 0) {
      this.failNext[method] = left - 1;
      throw new Error(`injected ${method} failure`);
    }
  }
}
