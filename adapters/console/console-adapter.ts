import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import type { AdapterRecords } from '../../src/ports/adapter-module';
import type {
  ChatAdapter,
  ChatCapabilities,
  InboundContext,
  InboundHandler,
  PostMessageOptions,
  ResolvedUser,
} from '../../src/ports/chat';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import type { StartTimer } from '../shared/inbound-dispatcher';
import { ConsoleInbound } from './inbound';
import { KeptMessages } from './kept-messages';
import { renderPlainText } from '../shared/plain-text';
import { renderCard } from './render';
import { mountConsoleRoutes, type ConsoleViews } from './routes';
import { ChangeStream } from './sse';
import { BOT_AUTHOR, ConsoleWorkspace, dmConversationId, type ConsoleChannel, type ConsoleUser } from './workspace';

export type { ConsoleViews } from './routes';
export type { ConsoleChannel, ConsoleUser } from './workspace';

export interface ConsoleAdapterOptions {
  users: ConsoleUser[];
  channels: ConsoleChannel[];
  /** Read-only lists for the page's Requests and Audit tabs. */
  views: ConsoleViews;
  newId: () => string;
  now: () => number;
  logger?: HttpLogger;
  /** Deadline timers for answers (tests pass a manual one). */
  startTimer?: StartTimer;
  /** Where the messages are kept across restarts; absent: in memory only. */
  records?: AdapterRecords;
}

export const CONSOLE_NOTICE =
  'Local console — binds to 127.0.0.1 only, no authentication. Every demo user here can read every channel, ' +
  'private ones included; DMs and "only visible to you" replies stay with their user.';

export const CONSOLE_EMAIL_DOMAIN = 'demo.jitbot.local';

/** Longest bot text (thread reply, DM) the console stores. */
const MAX_BOT_TEXT = 4000;

/**
 * The local web console: a tiny in-memory chat workspace served at `/` with its API under `/console/api`.
 * It translates page actions into InboundEvents and renders what the core sends; it holds no request logic.
 */
export class ConsoleAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'console' as const;
  readonly capabilities: ChatCapabilities = {
    threads: true,
    privateClickReply: true,
    privateCommandReply: true,
    cardInClickResponse: false,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: false,
  };

  private readonly workspace: ConsoleWorkspace;
  private readonly inbound: ConsoleInbound;
  private readonly changes = new ChangeStream();
  private readonly views: ConsoleViews;
  private readonly kept: KeptMessages | undefined;
  private loaded = false;

  constructor(options: ConsoleAdapterOptions) {
    this.workspace = new ConsoleWorkspace(options.users, options.channels, options.newId, options.now);
    this.inbound = new ConsoleInbound(this.workspace, {
      capabilities: this.capabilities,
      logger: options.logger ?? silentLogger,
      notifyUser: (user, text) => this.notifyUser(user, text),
      ...(options.startTimer && { startTimer: options.startTimer }),
    });
    this.views = options.views;
    this.kept = options.records && new KeptMessages(this.workspace, options.records, options.logger ?? silentLogger);
    this.workspace.onChange((seq) => this.changes.broadcast(seq));
  }

  mount(app: express.Express): void {
    mountConsoleRoutes(app, {
      workspace: this.workspace,
      inbound: this.inbound,
      changes: this.changes,
      views: this.views,
      notice: CONSOLE_NOTICE,
    });
  }

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    if (this.kept && !this.loaded) {
      // The messages of earlier runs come back before anything new is posted.
      await this.kept.load();
      this.loaded = true;
    }
    this.kept?.follow();
    this.inbound.start(onEvent, context);
  }

  async stop(): Promise<void> {
    await this.inbound.stop();
    await this.kept?.flush();
    this.changes.closeAll();
  }

  /** Resolves when every event received so far has been handled and answered (tests, shutdown). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireConsole(channel.platform);
    const message = this.workspace.postMessage(channel.channelId, BOT_AUTHOR, { card: renderCard(card) });
    return { platform: 'console', channelId: channel.channelId, messageId: message.id };
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireConsole(message.platform);
    this.workspace.replaceCard(message.channelId, message.messageId, renderCard(card));
  }

  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    requireConsole(message.platform);
    // A reference to a thread reply answers in the same thread, as chat apps do.
    const rootId = message.threadId ?? message.messageId;
    const reply = this.workspace.replyInThread(
      message.channelId,
      rootId,
      BOT_AUTHOR,
      renderPlainText(text, MAX_BOT_TEXT),
    );
    return {
      platform: 'console',
      channelId: message.channelId,
      messageId: reply.id,
      ...(reply.threadId !== undefined && { threadId: reply.threadId }),
    };
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    requireConsole(channel.platform);
    const person =
      options.mention?.platform === 'console' ? this.workspace.findUser(options.mention.userId) : undefined;
    const mention = person ? `@${person.displayName} ` : '';
    const message = this.workspace.postMessage(channel.channelId, BOT_AUTHOR, {
      text: renderPlainText(mention + text, MAX_BOT_TEXT),
    });
    return { platform: 'console', channelId: channel.channelId, messageId: message.id };
  }

  async notifyUser(user: UserRef, text: string): Promise<void> {
    requireConsole(user.platform);
    this.requireUser(user.userId);
    this.workspace.postMessage(dmConversationId(user.userId), BOT_AUTHOR, {
      text: renderPlainText(text, MAX_BOT_TEXT),
    });
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireConsole(user.platform);
    const known = this.requireUser(user.userId);
    return { userId: known.userId, displayName: known.displayName, email: `${known.userId}@${CONSOLE_EMAIL_DOMAIN}` };
  }

  private requireUser(userId: string): ConsoleUser {
    const user = this.workspace.findUser(userId);
    if (!user) throw new Error(`the console has no user "${userId}"`);
    return user;
  }
}

function requireConsole(platform: string): void {
  if (platform !== 'console') throw new Error(`the console adapter was given a ${platform} reference`);
}
