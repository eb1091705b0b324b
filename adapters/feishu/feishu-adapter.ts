import { createHash } from 'node:crypto';
import type { EventDispatcher } from '@larksuiteoapi/node-sdk';
import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import {
  ChatRefused,
  type ChatAdapter,
  type ChatCapabilities,
  type InboundContext,
  type InboundHandler,
  type PostMessageOptions,
  type ResolvedUser,
  type SendOptions,
} from '../../src/ports/chat';
import { CardVersions } from '../shared/card-versions';
import { renderFeishuCard, type FeishuCard } from './card-json';
import { ClickResponses } from './click-responses';
import { BotOpenId } from './bot-open-id';
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
  /** How long a PATCH waits after a card was given in a click's response (tests shorten it). */
  responseSettleMs?: number;
  /** How long a message waits for the bot's open_id before it is ignored (default 1 s; tests shorten it). */
  botOpenIdWaitMs?: number;
}

/**
 * Feishu/Lark. `websocket` mode (the default): the SDK's long connection, no inbound port, mounts nothing.
 * `http` mode: mounts `POST /feishu/events` (message events and card callbacks) on jitbot's server and verifies
 * every request itself. Either way commands are acknowledged at once and answered by a reply to the message, and
 * card clicks are answered inside Feishu's 3 seconds with a toast and the redrawn card.
 */
export class FeishuAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'feishu' as const;
  readonly capabilities: ChatCapabilities = {
    threads: true,
    // A toast is shown to the clicker only.
    privateClickReply: true,
    // Feishu has no private reply to a text message; the answer is a reply to the person's own message (in a DM
    // to the bot that is private anyway; in a group it answers where they asked, as people expect from a bot).
    privateCommandReply: true,
    cardInClickResponse: true,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };

  private readonly api: FeishuOpenApi;
  private readonly inbound: FeishuInbound;
  private readonly dispatcher: EventDispatcher;
  private readonly logger: HttpLogger;
  private readonly now: () => number;
  private readonly cards = new CardVersions();
  private readonly responses: ClickResponses;
  private readonly botOpenId: BotOpenId;
  private connection: LongConnection | undefined;

  constructor(private readonly options: FeishuAdapterOptions) {
    if (!options.appId) throw new Error('the Feishu adapter needs the App ID (adapters.feishu.appId)');
    if (!options.appSecret) throw new Error('the Feishu adapter needs the App Secret (FEISHU_APP_SECRET)');
    if (options.mode === 'http' && (!options.encryptKey || !options.verificationToken)) {
      throw new Error(
        'the Feishu adapter in http mode needs the Encrypt Key and the Verification Token (FEISHU_ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN) to verify callbacks',
      );
    }
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.responses = new ClickResponses(options.responseSettleMs);
    this.api = new FeishuOpenApi({
      appId: options.appId,
      appSecret: options.appSecret,
      domain: options.domain,
      logger: this.logger,
      now: this.now,
      ...(options.sleep && { sleep: options.sleep }),
    });
    this.botOpenId = new BotOpenId(() => this.api.botOpenId(), this.logger, options.botOpenIdWaitMs);
    this.inbound = new FeishuInbound({
      logger: this.logger,
      capabilities: this.capabilities,
      botOpenId: () => this.botOpenId.wait(),
      displayName: async (unionId) => (await this.api.user(unionId)).displayName,
      answerCommand: async (messageId, text) => void (await this.api.replyTo(messageId, text)),
      notifyUser: (user, text) => this.notifyUser(user, text),
      cardForResponse: (messageId, card) => {
        if (messageId === undefined || !this.responses.mayAnswerWith(messageId, card.version)) return undefined;
        // Not noted as drawn: nothing says Feishu got the response (it may come after 3 s, or be lost), so the
        // outbox's PATCH of this same version still goes out, after the settle time, and makes sure of it.
        return renderFeishuCard(card);
      },
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

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    await this.checkApp();
    this.inbound.start(onEvent, context);
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
        await this.inbound.stop();
        throw error;
      }
    }
  }

  async stop(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    connection?.stop();
    await this.inbound.stop();
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireFeishu(channel.platform);
    const posted = await this.api.postCard(channel.channelId, card);
    this.cards.posted(posted.messageId, card.version, digest(renderFeishuCard(card)));
    this.responses.drew(posted.messageId, card.version);
    return { platform: 'feishu', channelId: posted.chatId || channel.channelId, messageId: posted.messageId };
  }

  /** PATCHes the card; draws of one message go out in order, and an older or identical one is skipped. */
  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireFeishu(message.platform);
    const rendered = renderFeishuCard(card);
    await this.cards.update(message.messageId, card.version, digest(rendered), async () => {
      await this.responses.settled(message.messageId);
      await this.api.updateCard(message.messageId, card);
      this.responses.drew(message.messageId, card.version);
    });
  }

  async replyInThread(message: MessageRef, text: string, options: SendOptions = {}): Promise<MessageRef> {
    requireFeishu(message.platform);
    // A reference to a thread reply answers in the same thread: reply to the card it belongs to.
    const root = message.threadId ?? message.messageId;
    const posted = await this.api.replyInThread(root, text, options.idempotencyKey);
    return {
      platform: 'feishu',
      channelId: posted.chatId || message.channelId,
      messageId: posted.messageId,
      threadId: root,
    };
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    requireFeishu(channel.platform);
    const mention = options.mention?.platform === 'feishu' ? options.mention.userId : undefined;
    const posted = await this.api.postText(channel.channelId, text, mention, options.idempotencyKey);
    return { platform: 'feishu', channelId: posted.chatId || channel.channelId, messageId: posted.messageId };
  }

  async notifyUser(user: UserRef, text: string, _lastSeenIn?: ChannelRef, options: SendOptions = {}): Promise<void> {
    requireFeishu(user.platform);
    await this.api.sendToUser(user.userId, text, options.idempotencyKey);
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireFeishu(user.platform);
    return this.api.user(user.userId);
  }

  /** A wrong App ID or secret stops start-up with a clear message; Feishu being unreachable only warns. */
  private async checkApp(): Promise<void> {
    try {
      await this.botOpenId.check();
      this.logger.info({ mode: this.options.mode }, 'feishu connected');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ChatRefused)
        throw new Error(`Feishu refused the app (${message}); check adapters.feishu.appId and FEISHU_APP_SECRET`);
      this.logger.warn(
        { err: message },
        'could not reach Feishu to check the app; continuing (group messages are ignored until it answers)',
      );
    }
  }
}

function digest(card: FeishuCard): string {
  return createHash('sha256').update(JSON.stringify(card)).digest('hex');
}

function requireFeishu(platform: string): void {
  if (platform !== 'feishu') throw new Error(`the Feishu adapter was given a ${platform} reference`);
}
