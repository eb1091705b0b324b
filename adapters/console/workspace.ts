import type { ConsoleCard } from './render';

// A tiny chat workspace held in memory: channels, a DM with the bot per user, messages (text or card), threads
// and per-user ephemeral messages. It knows nothing about requests; it only stores what it is told to show.

export interface ConsoleUser {
  userId: string;
  displayName: string;
  description: string;
}

export interface ConsoleChannel {
  id: string;
  name: string;
  private: boolean;
  description?: string;
}

export type MessageAuthor =
  | { kind: 'user'; userId: string; displayName: string }
  | { kind: 'bot'; displayName: string };

export interface ThreadReply {
  id: string;
  /** Position in the workspace's history: the page sorts by it (timestamps from an injected clock may tie). */
  order: number;
  at: number;
  author: MessageAuthor;
  text: string;
}

export interface ConsoleMessage {
  id: string;
  order: number;
  at: number;
  author: MessageAuthor;
  text?: string;
  card?: ConsoleCard;
  editedAt?: number;
  thread: ThreadReply[];
}

export interface EphemeralMessage {
  id: string;
  order: number;
  at: number;
  conversationId: string;
  kind: 'info' | 'error';
  text: string;
}

export interface ConversationView {
  id: string;
  kind: 'channel' | 'dm';
  name: string;
  private: boolean;
  description?: string;
  messages: ConsoleMessage[];
}

/** Everything one user can see. */
export interface UserStateView {
  seq: number;
  user: ConsoleUser;
  channels: ConversationView[];
  dms: ConversationView[];
  ephemerals: EphemeralMessage[];
}

export const BOT_AUTHOR: MessageAuthor = { kind: 'bot', displayName: 'jitbot' };

const DM_PREFIX = 'dm:';

/** Oldest entries are dropped beyond these, so a long-running console does not grow without bound. */
export const WORKSPACE_LIMITS = { messagesPerConversation: 500, repliesPerThread: 200, ephemeralsPerUser: 100 };

interface Conversation {
  id: string;
  kind: 'channel' | 'dm';
  channel?: ConsoleChannel;
  ownerId?: string;
  messages: ConsoleMessage[];
}

/** What changed about one message (for whoever keeps the workspace across restarts). */
export type MessageChange =
  | { kind: 'saved'; conversationId: string; message: ConsoleMessage }
  | { kind: 'dropped'; messageId: string };

export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
}

export class ConsoleWorkspace {
  private readonly users = new Map<string, ConsoleUser>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly messageLocations = new Map<string, string>();
  private readonly ephemerals = new Map<string, EphemeralMessage[]>();
  private readonly listeners = new Set<(seq: number) => void>();
  private readonly messageListeners = new Set<(change: MessageChange) => void>();
  private sequence = 0;
  private order = 0;

  constructor(
    users: readonly ConsoleUser[],
    channels: readonly ConsoleChannel[],
    private readonly newId: () => string,
    private readonly now: () => number,
  ) {
    if (users.length === 0) throw new WorkspaceError('the console needs at least one user');
    if (channels.length === 0) throw new WorkspaceError('the console needs at least one channel');
    for (const user of users) {
      if (this.users.has(user.userId)) throw new WorkspaceError(`duplicate console user id "${user.userId}"`);
      this.users.set(user.userId, { ...user });
      this.conversations.set(dmConversationId(user.userId), {
        id: dmConversationId(user.userId),
        kind: 'dm',
        ownerId: user.userId,
        messages: [],
      });
    }
    for (const channel of channels) {
      if (channel.id.startsWith(DM_PREFIX)) throw new WorkspaceError(`channel id "${channel.id}" is reserved for DMs`);
      if (this.conversations.has(channel.id)) throw new WorkspaceError(`duplicate console channel id "${channel.id}"`);
      this.conversations.set(channel.id, { id: channel.id, kind: 'channel', channel: { ...channel }, messages: [] });
    }
  }

  get seq(): number {
    return this.sequence;
  }

  listUsers(): ConsoleUser[] {
    return [...this.users.values()].map((user) => ({ ...user }));
  }

  listChannels(): ConsoleChannel[] {
    return [...this.conversations.values()].flatMap((c) => (c.channel ? [{ ...c.channel }] : []));
  }

  findUser(userId: string): ConsoleUser | undefined {
    return this.users.get(userId);
  }

  hasConversation(conversationId: string): boolean {
    return this.conversations.has(conversationId);
  }

  /** Channels (public and private) are visible to every demo user; a DM only to its owner. */
  canSee(userId: string, conversationId: string): boolean {
    const conversation = this.conversations.get(conversationId);
    if (!conversation || !this.users.has(userId)) return false;
    return conversation.kind === 'channel' || conversation.ownerId === userId;
  }

  findMessage(conversationId: string, messageId: string): ConsoleMessage | undefined {
    if (this.messageLocations.get(messageId) !== conversationId) return undefined;
    return this.conversations.get(conversationId)?.messages.find((message) => message.id === messageId);
  }

  postMessage(
    conversationId: string,
    author: MessageAuthor,
    content: { text: string } | { card: ConsoleCard },
  ): ConsoleMessage {
    return this.appendMessage(this.requireConversation(conversationId), { id: this.newId(), author, ...content });
  }

  /**
   * Replaces a card in place. A card older than the one shown (a late, out-of-order update) is ignored, and an
   * identical one changes nothing, so repeating an update is harmless. The workspace lives in memory while the
   * requests outlive it (a restart, or a message dropped by the size limit): a card it no longer has is shown
   * again, under the same id, at the end of its channel.
   */
  replaceCard(conversationId: string, messageId: string, card: ConsoleCard): 'replaced' | 'unchanged' | 'restored' {
    const message = this.findMessage(conversationId, messageId);
    if (!message) {
      this.appendMessage(this.requireConversation(conversationId), { id: messageId, author: BOT_AUTHOR, card });
      return 'restored';
    }
    if (!message.card) throw new WorkspaceError(`console message ${messageId} is not a card`);
    const shown = message.card;
    if (shown.requestId === card.requestId && card.version < shown.version) return 'unchanged';
    if (JSON.stringify(shown) === JSON.stringify(card)) return 'unchanged';
    message.card = card;
    message.editedAt = this.now();
    this.messageChanged({ kind: 'saved', conversationId, message });
    this.changed();
    return 'replaced';
  }

  /** Replies under `rootMessageId`; if the workspace no longer has that message, the reply is posted on its own. */
  replyInThread(
    conversationId: string,
    rootMessageId: string,
    author: MessageAuthor,
    text: string,
  ): { id: string; threadId?: string } {
    const root = this.findMessage(conversationId, rootMessageId);
    if (!root) return { id: this.postMessage(conversationId, author, { text }).id };
    const reply: ThreadReply = { id: this.newId(), order: this.nextOrder(), at: this.now(), author, text };
    root.thread.push(reply);
    root.thread.splice(0, root.thread.length - WORKSPACE_LIMITS.repliesPerThread);
    this.messageChanged({ kind: 'saved', conversationId, message: root });
    this.changed();
    return { id: reply.id, threadId: root.id };
  }

  addEphemeral(userId: string, conversationId: string, kind: 'info' | 'error', text: string): EphemeralMessage {
    this.requireConversation(conversationId);
    if (!this.users.has(userId)) throw new WorkspaceError(`no console user ${userId}`);
    const ephemeral: EphemeralMessage = {
      id: this.newId(),
      order: this.nextOrder(),
      at: this.now(),
      conversationId,
      kind,
      text,
    };
    const list = this.ephemerals.get(userId) ?? [];
    list.push(ephemeral);
    list.splice(0, list.length - WORKSPACE_LIMITS.ephemeralsPerUser);
    this.ephemerals.set(userId, list);
    this.changed();
    return ephemeral;
  }

  viewFor(userId: string): UserStateView {
    const user = this.users.get(userId);
    if (!user) throw new WorkspaceError(`no console user ${userId}`);
    const channels: ConversationView[] = [];
    const dms: ConversationView[] = [];
    for (const conversation of this.conversations.values()) {
      if (!this.canSee(userId, conversation.id)) continue;
      if (conversation.channel) {
        const { id, name, description } = conversation.channel;
        channels.push({
          id,
          kind: 'channel',
          name,
          private: conversation.channel.private,
          ...(description !== undefined && { description }),
          messages: structuredClone(conversation.messages),
        });
      } else {
        dms.push({
          id: conversation.id,
          kind: 'dm',
          name: BOT_AUTHOR.displayName,
          private: true,
          messages: structuredClone(conversation.messages),
        });
      }
    }
    return {
      seq: this.sequence,
      user: { ...user },
      channels,
      dms,
      ephemerals: structuredClone(this.ephemerals.get(userId) ?? []),
    };
  }

  /**
   * Puts back a message kept from an earlier run, in its place by `order`, before anything new is posted. A message
   * of a conversation this workspace does not have (the config changed) is skipped; false then.
   */
  restore(conversationId: string, message: ConsoleMessage): boolean {
    const conversation = this.conversations.get(conversationId);
    if (!conversation || this.messageLocations.has(message.id)) return false;
    const copy = structuredClone(message);
    const at = conversation.messages.findIndex((m) => m.order > copy.order);
    conversation.messages.splice(at === -1 ? conversation.messages.length : at, 0, copy);
    this.messageLocations.set(copy.id, conversationId);
    this.order = Math.max(this.order, copy.order, ...copy.thread.map((reply) => reply.order));
    return true;
  }

  /** Called with each message posted, edited, replied to or dropped; returns an unsubscribe function. */
  onMessageChange(listener: (change: MessageChange) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Called after every change with the new sequence number; returns an unsubscribe function. */
  onChange(listener: (seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private requireConversation(conversationId: string): Conversation {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new WorkspaceError(`no console channel ${conversationId}`);
    return conversation;
  }

  private appendMessage(
    conversation: Conversation,
    content: { id: string; author: MessageAuthor } & ({ text: string } | { card: ConsoleCard }),
  ): ConsoleMessage {
    const message: ConsoleMessage = { order: this.nextOrder(), at: this.now(), thread: [], ...content };
    conversation.messages.push(message);
    this.messageLocations.set(message.id, conversation.id);
    this.messageChanged({ kind: 'saved', conversationId: conversation.id, message });
    for (const dropped of conversation.messages.splice(
      0,
      conversation.messages.length - WORKSPACE_LIMITS.messagesPerConversation,
    )) {
      this.messageLocations.delete(dropped.id);
      this.messageChanged({ kind: 'dropped', messageId: dropped.id });
    }
    this.changed();
    return message;
  }

  private nextOrder(): number {
    this.order += 1;
    return this.order;
  }

  private messageChanged(change: MessageChange): void {
    for (const listener of this.messageListeners) listener(change);
  }

  private changed(): void {
    this.sequence += 1;
    for (const listener of this.listeners) listener(this.sequence);
  }
}

/** The conversation id of a user's DM with the bot. */
export function dmConversationId(userId: string): string {
  return DM_PREFIX + userId;
}
