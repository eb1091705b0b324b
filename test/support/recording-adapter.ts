import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, Platform, UserRef } from '../../src/core/model';
import type {
  ChatAdapter,
  ChatCapabilities,
  InboundContext,
  InboundEvent,
  InboundHandler,
  PostMessageOptions,
  Reply,
  ResolvedUser,
  SendOptions,
} from '../../src/ports/chat';

type FailingMethod = 'postCard' | 'updateCard' | 'replyInThread' | 'postMessage' | 'notifyUser';

/** An in-memory chat platform for service tests: records every outbound call, lets tests inject failures. */
export class RecordingAdapter implements ChatAdapter {
  /** Slack-like by default; tests change what they need (e.g. `threads: false`). */
  readonly capabilities: ChatCapabilities = {
    threads: true,
    privateClickReply: true,
    privateCommandReply: true,
    cardInClickResponse: false,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };
  readonly posted: { channel: ChannelRef; card: ApprovalCard; message: MessageRef }[] = [];
  readonly updates: { message: MessageRef; card: ApprovalCard }[] = [];
  readonly threads: { message: MessageRef; text: string }[] = [];
  readonly channelPosts: { channel: ChannelRef; text: string; mention?: UserRef }[] = [];
  readonly dms: { user: UserRef; text: string; lastSeenIn?: ChannelRef }[] = [];
  readonly lookups: { user: UserRef; lastSeenIn?: ChannelRef }[] = [];
  /** Every message send tried (failed ones too), with the idempotency key it carried. */
  readonly sends: { method: FailingMethod; text: string; idempotencyKey?: string }[] = [];
  /** Failures to inject: the next N calls of a method throw this error (a generic one by default). */
  readonly failNext: Partial<Record<FailingMethod, number>> = {};
  readonly failWith: Partial<Record<FailingMethod, Error>> = {};
  private handler: InboundHandler | undefined;
  /** What start() was told (the workspace locale). */
  context: InboundContext | undefined;
  private seq = 0;

  constructor(
    readonly platform: Platform,
    private readonly emails: Record<string, string> = {},
  ) {}

  async start(onEvent: InboundHandler, context?: InboundContext): Promise<void> {
    this.handler = onEvent;
    this.context = context;
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

  async replyInThread(message: MessageRef, text: string, options: SendOptions = {}): Promise<MessageRef> {
    this.tried('replyInThread', text, options);
    this.maybeFail('replyInThread');
    this.threads.push({ message, text });
    return { ...message, messageId: `r${++this.seq}`, threadId: message.messageId };
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    this.tried('postMessage', text, options);
    this.maybeFail('postMessage');
    this.channelPosts.push({ channel, text, ...(options.mention && { mention: options.mention }) });
    return { platform: this.platform, channelId: channel.channelId, messageId: `p${++this.seq}` };
  }

  async notifyUser(user: UserRef, text: string, lastSeenIn?: ChannelRef, options: SendOptions = {}): Promise<void> {
    this.tried('notifyUser', text, options);
    this.maybeFail('notifyUser');
    this.dms.push({ user, text, ...(lastSeenIn && { lastSeenIn }) });
  }

  async resolveUser(user: UserRef, lastSeenIn?: ChannelRef): Promise<ResolvedUser> {
    this.lookups.push({ user, ...(lastSeenIn && { lastSeenIn }) });
    return { userId: user.userId, displayName: user.displayName, email: this.emails[user.userId] };
  }

  /** The latest card drawn for a request (posted or updated). */
  latestCard(requestId: string): ApprovalCard | undefined {
    const drawn = [...this.posted.map((p) => p.card), ...this.updates.map((u) => u.card)].filter(
      (c) => c.requestId === requestId,
    );
    return drawn.sort((a, b) => a.version - b.version)[drawn.length - 1];
  }

  private tried(method: FailingMethod, text: string, { idempotencyKey }: SendOptions): void {
    this.sends.push({ method, text, ...(idempotencyKey !== undefined && { idempotencyKey }) });
  }

  private maybeFail(method: FailingMethod): void {
    const left = this.failNext[method] ?? 0;
    if (left > 0) {
      this.failNext[method] = left - 1;
      throw this.failWith[method] ?? new Error(`injected ${method} failure`);
    }
  }
}
