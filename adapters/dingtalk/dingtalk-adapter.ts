import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import type { ChatAdapter, ChatCapabilities, InboundHandler, ResolvedUser } from '../../src/ports/chat';
import { renderCardParams, renderDegradedCard } from './card-params';
import { escapeMarkdown, plainText } from './dingtalk-text';
import { mountDingTalkEvents } from './events-route';
import { DingTalkInbound } from './inbound';
import { DingTalkApiError, DingTalkOpenApi, type RateLimitRetry } from './open-api';
import { conversationOf, outTrackIdFor, parseOutTrackId } from './payloads';
import { DingTalkStreamClient, StreamCredentialsRefused, TOPIC_CARD_CALLBACK, TOPIC_ROBOT_MESSAGE, type StreamBackoff } from './stream-client';

export { DINGTALK_EVENTS_PATH } from './events-route';

export interface DingTalkAdapterOptions {
  /** The internal app's Client ID (AppKey) and Client Secret (AppSecret). */
  clientId: string;
  clientSecret: string;
  /** The robot's code; for an internal app's robot, the Client ID (the default). */
  robotCode?: string;
  /** The org jitbot serves (corpId); people from other orgs are refused. */
  corpId?: string;
  /** How people @-mention the robot, for the degraded-mode hints. */
  robotName?: string;
  /** The imported card template's id; without it, cards are markdown messages (degraded mode). */
  cardTemplateId?: string;
  /** `stream` (default): outbound WebSocket. `http`: robot messages POSTed to /dingtalk/events. */
  mode?: 'stream' | 'http';
  gatewayUrl?: string;
  apiUrl?: string;
  oapiUrl?: string;
  logger?: HttpLogger;
  now?: () => number;
  /** Tests shorten these. */
  streamBackoff?: Partial<StreamBackoff>;
  rateLimit?: Partial<RateLimitRetry>;
  clickDeadlineMs?: number;
}

const USER_CACHE_MS = 10 * 60_000;
const MAX_REMEMBERED = 5000;

/**
 * DingTalk. Requests come as robot messages (@jitbot in a group, or a DM); approvals as clicks on an interactive
 * card (Stream mode), or typed `approve JIT-…` messages without a card template. DingTalk has no threads and no
 * private replies in groups: thread replies are new group messages quoting the request id, and answers to a
 * person go by DM.
 */
export class DingTalkAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'dingtalk' as const;
  readonly capabilities: ChatCapabilities;

  private readonly api: DingTalkOpenApi;
  private readonly inbound: DingTalkInbound;
  private readonly stream: DingTalkStreamClient | undefined;
  private readonly logger: HttpLogger;
  private readonly now: () => number;
  private readonly users = new Map<string, { user: ResolvedUser; until: number }>();
  /** Per card: the newest version shown (template mode) or the status last posted (degraded mode). */
  private readonly shown = new Map<string, { version: number; status: string }>();
  /** Per request: who asked, so group notes can name them. */
  private readonly requesters = new Map<string, UserRef>();

  constructor(private readonly options: DingTalkAdapterOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new Error('the DingTalk adapter needs the app\'s client id and client secret (DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)');
    }
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    if (this.mode === 'http' && options.cardTemplateId) {
      this.logger.warn({}, 'dingtalk: card clicks arrive only over Stream, so in HTTP mode cards are markdown messages and decisions are typed; cardTemplateId is not used');
    }
    const templated = Boolean(this.cardTemplateId);
    this.capabilities = { threads: false, ephemeral: false, inlineInputs: templated, updateInPlace: templated, emailLookup: true };
    this.api = new DingTalkOpenApi({
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      ...(options.robotCode && { robotCode: options.robotCode }),
      ...(options.apiUrl && { apiUrl: options.apiUrl }),
      ...(options.oapiUrl && { oapiUrl: options.oapiUrl }),
      ...(options.rateLimit && { rateLimit: options.rateLimit }),
      logger: this.logger,
      now: this.now,
    });
    this.inbound = new DingTalkInbound({
      logger: this.logger,
      ...(options.corpId && { corpId: options.corpId }),
      robotName: this.robotName,
      ...(options.clickDeadlineMs !== undefined && { clickDeadlineMs: options.clickDeadlineMs }),
      resolveUser: (userId) => this.user(userId),
      sendDirect: (userId, text) => this.api.sendDirectMessage([userId], 'sampleText', { content: plainText(text, 5000) }),
      sendGroup: (conversationId, text) => this.api.sendGroupMessage(conversationId, 'sampleText', { content: plainText(text, 5000) }),
    });
    if (this.mode === 'stream') {
      this.stream = new DingTalkStreamClient({
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        ...(options.gatewayUrl && { gatewayUrl: options.gatewayUrl }),
        topics: [TOPIC_ROBOT_MESSAGE, TOPIC_CARD_CALLBACK],
        logger: this.logger,
        ...(options.streamBackoff && { backoff: options.streamBackoff }),
        onCallback: async ({ topic, messageId, data }) => {
          let body: unknown;
          try {
            body = JSON.parse(data);
          } catch {
            // Acked and dropped: redelivering it would not make it readable.
            this.logger.warn({ topic }, 'dingtalk stream frame with unreadable data ignored');
            return 'SUCCESS';
          }
          if (topic === TOPIC_CARD_CALLBACK) return this.inbound.cardCallback(body, messageId);
          if (topic === TOPIC_ROBOT_MESSAGE) await this.inbound.robotMessage(body);
          return 'SUCCESS';
        },
      });
    }
  }

  get mode(): 'stream' | 'http' {
    return this.options.mode ?? 'stream';
  }

  /** The card template in use: none in HTTP mode, where clicks could not reach jitbot. */
  private get cardTemplateId(): string | undefined {
    return this.mode === 'stream' ? this.options.cardTemplateId : undefined;
  }

  private get robotName(): string {
    return this.options.robotName ?? 'jitbot';
  }

  mount(app: express.Express): void {
    if (this.mode !== 'http') return;
    mountDingTalkEvents(app, {
      appSecret: this.options.clientSecret,
      now: this.now,
      logger: this.logger,
      receive: (body) => this.inbound.robotMessage(body),
    });
  }

  async start(onEvent: InboundHandler): Promise<void> {
    await this.checkCredentials();
    this.inbound.setHandler(onEvent);
    try {
      await this.stream?.start();
    } catch (error) {
      this.inbound.setHandler(undefined);
      throw error instanceof StreamCredentialsRefused ? new Error(error.message) : error;
    }
  }

  async stop(): Promise<void> {
    await this.stream?.stop();
    await this.inbound.idle();
    this.inbound.setHandler(undefined);
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  async idle(): Promise<void> {
    await this.stream?.idle();
    await this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireDingTalk(channel.platform);
    this.remember(this.requesters, card.requestId, card.requester);
    const outTrackId = outTrackIdFor(card.requestId, channel.channelId);
    const space = conversationOf(channel.channelId);
    if (this.cardTemplateId) {
      try {
        await this.api.createAndDeliverCard({ cardTemplateId: this.cardTemplateId, outTrackId, space, cardParamMap: renderCardParams(card) });
      } catch (error) {
        // A retried post whose first attempt reached DingTalk: the card exists, so bring it up to date instead.
        if (!isDuplicateOutTrackId(error)) throw error;
        await this.api.updateCard(outTrackId, renderCardParams(card));
      }
    } else {
      await this.sendMarkdown(space, renderDegradedCard(card, this.robotName));
    }
    this.remember(this.shown, outTrackId, { version: card.version, status: card.status });
    return { platform: 'dingtalk', channelId: channel.channelId, messageId: outTrackId };
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireDingTalk(message.platform);
    this.remember(this.requesters, card.requestId, card.requester);
    const shown = this.shown.get(message.messageId);
    if (shown && shown.version >= card.version) return;
    if (this.cardTemplateId) {
      await this.api.updateCard(message.messageId, renderCardParams(card));
    } else if (!shown || shown.status !== card.status) {
      // A markdown message cannot change: a new one is posted when the status changes.
      await this.sendMarkdown(conversationOf(message.channelId), renderDegradedCard(card, this.robotName));
    }
    this.remember(this.shown, message.messageId, { version: card.version, status: card.status });
  }

  /** No threads: a new message in the card's conversation, quoting the request id and naming the requester. */
  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    requireDingTalk(message.platform);
    const card = parseOutTrackId(message.threadId ?? message.messageId);
    const requestId = card?.requestId;
    const requester = requestId ? this.requesters.get(requestId) : undefined;
    const head = [requestId, requester && `@${requester.displayName}`].filter(Boolean).join(' · ');
    const title = plainText(head || text, 100);
    const body = head ? `**${escapeMarkdown(head, 200)}**\n\n${escapeMarkdown(text, 3000)}` : escapeMarkdown(text, 3000);
    await this.sendMarkdown(conversationOf(message.channelId), { title, text: body });
    return { platform: 'dingtalk', channelId: message.channelId, messageId: `${message.threadId ?? message.messageId}#${this.now()}`, threadId: message.threadId ?? message.messageId };
  }

  async notifyUser(user: UserRef, text: string): Promise<void> {
    requireDingTalk(user.platform);
    await this.api.sendDirectMessage([user.userId], 'sampleText', { content: plainText(text, 5000) });
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireDingTalk(user.platform);
    return this.user(user.userId);
  }

  /** topapi/v2/user/get, cached for ten minutes. */
  private async user(userId: string): Promise<ResolvedUser> {
    const cached = this.users.get(userId);
    if (cached && cached.until > this.now()) return cached.user;
    const found = await this.api.getUser(userId);
    const user: ResolvedUser = { userId, displayName: found.name, ...(found.email && { email: found.email }) };
    this.remember(this.users, userId, { user, until: this.now() + USER_CACHE_MS });
    return user;
  }

  private async sendMarkdown(space: ReturnType<typeof conversationOf>, message: { title: string; text: string }): Promise<void> {
    if (space.kind === 'group') await this.api.sendGroupMessage(space.openConversationId, 'sampleMarkdown', message);
    else await this.api.sendDirectMessage([space.userId], 'sampleMarkdown', message);
  }

  /** Wrong credentials stop start-up with a clear message; DingTalk being unreachable only warns. */
  private async checkCredentials(): Promise<void> {
    try {
      await this.api.checkCredentials();
      this.logger.info({ mode: this.mode, cards: this.cardTemplateId ? 'template' : 'markdown (degraded)' }, 'dingtalk connected');
    } catch (error) {
      if (error instanceof DingTalkApiError && error.permanent) throw new Error(error.message);
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not reach DingTalk to check the app credentials; continuing');
    }
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
  }
}

function isDuplicateOutTrackId(error: unknown): boolean {
  return error instanceof DingTalkApiError && /outTrackId/i.test(error.code + error.message) && /dup|exist/i.test(error.code + error.message);
}

function requireDingTalk(platform: string): void {
  if (platform !== 'dingtalk') throw new Error(`the DingTalk adapter was given a ${platform} reference`);
}
