import type { EventDispatcher } from '@larksuiteoapi/node-sdk';
import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import type { ChatAdapter, ChatCapabilities, InboundHandler, ResolvedUser } from '../../src/ports/chat';
import { dispatchEnvelope, feishuEventDispatcher } from './dispatcher';
import { mountFeishuEvents } from './events-route';
import { FeishuInbound } from './inbound';
import { connectLongConnection, type LongConnection } from './long-connection';
import { FeishuOpenApi, type FeishuDomain } from './open-api';

export { renderFeishuCard, type FeishuCard } from './card-json';
export { FEISHU_EVENTS_PATH } from './events-route';

export type FeishuMode = 'websocket' | 'http';

export interface FeishuAdapterOptions {
  mode: FeishuMode;
  appId: string;
  appSecret: string;
  encryptKey?: string;
  verificationToken?: string;
  domain: FeishuDomain;
  logger?: HttpLogger;
  /** Epoch milliseconds; callback timestamps are checked against it. */
  now?: () => number;
  /** Waits before a rate-limited call is sent again (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
  clickDeadlineMs?: number;
}

/**
 * Feishu/Lark. `websocket` mode (the default): the SDK's long connection, no inbound port, mounts nothing.
 * `http` mode: mounts `POST /feishu/events` (message events and card callbacks) on jitbot's server and verifies
 * every request itself. Either way commands are acknowledged at once and answered by a reply to the message, and
 * card clicks are answered inside Feishu's 3 seconds with a toast.
 */
export class FeishuAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'feishu' as const;
  readonly capabilities: ChatCapabilities = {
    threads: true,
    ephemeral: true,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };

  private readonly api: FeishuOpenApi;
  private readonly inbound: FeishuInbound;
  private readonly dispatcher: EventDispatcher;
  private readonly logger: HttpLogger;
  private readonly now: () => number;
  private readonly shownVersions = new Map<string, { version: number; queue: Promise<void> }>();
  private botOpenId: string | undefined;
  private connection: LongConnection | undefined;

  constructor(private readonly options: FeishuAdapterOptions) {
    if (!options.appId) throw new Error('the Feishu adapter needs the App ID (adapters.feishu.appId)');
    if (!options.appSecret) throw new Error('the Feishu adapter needs the App Secret (FEISHU_APP_SECRET)');
    if (options.mode === 'http' && (!options.encryptKey || !options.verificationToken)) {
      throw new Error('the Feishu adapter in http mode needs the Encrypt Key and the Verification Token (FEISHU_ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN) to verify callbacks');
    }
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.api = new FeishuOpenApi({
      appId: options.appId,
      appSecret: options.appSecret,
      domain: options.domain,
      logger: this.logger,
      now: this.now,
      ...(options.sleep && { sleep: options.sleep }),
    });
    this.inbound = new FeishuInbound({
      logger: this.logger,
      botOpenId: () => this.knownBotOpenId(),
      displayName: async (unionId) => (await this.api.user(unionId)).displayName,
      answerCommand: async (messageId, text) => void (await this.api.replyTo(messageId, text)),
      answerLate: async (unionId, text) => void (await this.api.sendToUser(unionId, text)),
      ...(options.clickDeadlineMs !== undefined && { clickDeadlineMs: options.clickDeadlineMs }),
    });
    this.dispatcher = feishuEventDispatcher(this.inbound, this.logger);
  }

  mount(app: express.Express): void {
    if (this.options.mode !== 'http') return;
    mountFeishuEvents(app, {
      encryptKey: this.options.encryptKey ?? '',
      verificationToken: this.options.verificationToken ?? '',
      now: this.now,
      logger: this.logger,
      receive: (envelope) => dispatchEnvelope(this.dispatcher, envelope),
    });
  }

  async start(onEvent: InboundHandler): Promise<void> {
    await this.checkApp();
    this.inbound.setHandler(onEvent);
    if (this.options.mode === 'websocket' && !this.connection) {
      try {
        this.connection = await connectLongConnection({
          appId: this.options.appId,
          appSecret: this.options.appSecret,
          domain: this.options.domain,
          logger: this.logger,
          dispatcher: this.dispatcher,
        });
      } catch (error) {
        this.inbound.setHandler(undefined);
        throw error;
      }
    }
  }

  async stop(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    connection?.stop();
    await this.inbound.idle();
    this.inbound.setHandler(undefined);
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireFeishu(channel.platform);
    const posted = await this.api.postCard(channel.channelId, card);
    this.shownVersions.set(posted.messageId, { version: card.version, queue: Promise.resolve() });
    return { platform: 'feishu', channelId: posted.chatId || channel.channelId, messageId: posted.messageId };
  }

  /** PATCHes the card; draws of one message go out in order, and an older version never replaces a newer one. */
  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireFeishu(message.platform);
    const entry = this.shownVersions.get(message.messageId) ?? { version: -1, queue: Promise.resolve() };
    const run = entry.queue.then(async () => {
      if (card.version < entry.version) return;
      await this.api.updateCard(message.messageId, card);
      entry.version = card.version;
    });
    entry.queue = run.catch(() => undefined);
    this.shownVersions.set(message.messageId, entry);
    if (this.shownVersions.size > 5000) this.shownVersions.delete(this.shownVersions.keys().next().value!);
    await run;
  }

  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    requireFeishu(message.platform);
    // A reference to a thread reply answers in the same thread: reply to the card it belongs to.
    const root = message.threadId ?? message.messageId;
    const posted = await this.api.replyInThread(root, text);
    return { platform: 'feishu', channelId: posted.chatId || message.channelId, messageId: posted.messageId, threadId: root };
  }

  async notifyUser(user: UserRef, text: string): Promise<void> {
    requireFeishu(user.platform);
    await this.api.sendToUser(user.userId, text);
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireFeishu(user.platform);
    return this.api.user(user.userId);
  }

  private async knownBotOpenId(): Promise<string | undefined> {
    if (this.botOpenId === undefined) {
      this.botOpenId = await this.api.botOpenId().catch((error: unknown) => {
        this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not look up the feishu bot; group message ignored');
        return undefined;
      });
    }
    return this.botOpenId;
  }

  /** A wrong App ID or secret stops start-up with a clear message; Feishu being unreachable only warns. */
  private async checkApp(): Promise<void> {
    try {
      this.botOpenId = await this.api.botOpenId();
      this.logger.info({ mode: this.options.mode }, 'feishu connected');
    } catch (error) {
      const permanent = (error as { permanent?: unknown }).permanent === true;
      const message = error instanceof Error ? error.message : String(error);
      if (permanent) throw new Error(`Feishu refused the app (${message}); check adapters.feishu.appId and FEISHU_APP_SECRET`);
      this.logger.warn({ err: message }, 'could not reach Feishu to check the app; continuing (group messages are ignored until it answers)');
    }
  }
}

function requireFeishu(platform: string): void {
  if (platform !== 'feishu') throw new Error(`the Feishu adapter was given a ${platform} reference`);
}
