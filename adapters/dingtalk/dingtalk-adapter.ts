import type express from 'express';
import { LRUCache } from 'lru-cache';
import type { ApprovalCard } from '../../src/core/card';
import { t, type Locale } from '../../src/core/i18n/catalog';
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
} from '../../src/ports/chat';
import { CardVersions, renderedDigest } from '../shared/card-versions';
import { renderCardParams, renderDegradedCard } from './card-params';
import { escapeMarkdown, plainText } from './dingtalk-text';
import { mountDingTalkEvents } from './events-route';
import { DingTalkInbound } from './inbound';
import { DingTalkApiError, DingTalkOpenApi, type RateLimitRetry } from './open-api';
import { conversationOf, outTrackIdFor } from './payloads';
import {
  DingTalkStreamClient,
  StreamCredentialsRefused,
  TOPIC_CARD_CALLBACK,
  TOPIC_ROBOT_MESSAGE,
  type StreamBackoff,
} from './stream-client';

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
  private readonly users = new LRUCache<string, ResolvedUser>({ max: MAX_REMEMBERED, ttl: USER_CACHE_MS });
  /** Template cards: each card's draws in order, stale or identical ones skipped. */
  private readonly cards = new CardVersions(MAX_REMEMBERED);
  /** Degraded mode: the status each markdown card was last posted with (a new message only when it changes). */
  private readonly postedStatus = new LRUCache<string, string>({ max: MAX_REMEMBERED });
  /** The workspace's language, for what the adapter says itself. */
  private locale: Locale = 'en';

  constructor(private readonly options: DingTalkAdapterOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new Error(
        "the DingTalk adapter needs the app's client id and client secret (adapters.dingtalk.clientId, DINGTALK_CLIENT_SECRET)",
      );
    }
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    if (this.mode === 'http' && options.cardTemplateId) {
      this.logger.warn(
        {},
        'dingtalk: card clicks arrive only over Stream, so in HTTP mode cards are markdown messages and decisions are typed; cardTemplateId is not used',
      );
    }
    const templated = Boolean(this.cardTemplateId);
    this.capabilities = {
      threads: false,
      // The note for the clicker goes into the card's private data; a markdown card cannot carry one.
      privateClickReply: templated,
      // A group has no private reply: answers to what a person typed go by DM.
      privateCommandReply: false,
      cardInClickResponse: templated,
      inlineInputs: templated,
      updateInPlace: templated,
      emailLookup: true,
    };
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
      capabilities: this.capabilities,
      ...(options.corpId && { corpId: options.corpId }),
      robotName: this.robotName,
      ...(options.clickDeadlineMs !== undefined && { clickDeadlineMs: options.clickDeadlineMs }),
      resolveUser: (userId) => this.user(userId),
      notifyUser: (user, text, lastSeenIn) => this.answerPrivately(user, text, lastSeenIn),
      updateNote: (outTrackId, userId, note) => this.api.updatePrivateData(outTrackId, userId, { note }),
      cardParams: (outTrackId, card) => {
        const params = renderCardParams(card);
        this.cards.posted(outTrackId, card.version, renderedDigest(params));
        return params;
      },
    });
    if (this.mode === 'stream') {
      this.stream = new DingTalkStreamClient({
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        ...(options.gatewayUrl && { gatewayUrl: options.gatewayUrl }),
        topics: [TOPIC_ROBOT_MESSAGE, TOPIC_CARD_CALLBACK],
        logger: this.logger,
        ...(options.streamBackoff && { backoff: options.streamBackoff }),
        // What this returns is the frame's ack; throwing (a robot message the core could not handle) leaves the
        // frame un-acked, and DingTalk delivers it again.
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

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    await this.checkCredentials();
    this.locale = context.locale;
    this.inbound.start(onEvent, context);
    try {
      await this.stream?.start();
    } catch (error) {
      await this.inbound.stop();
      throw error instanceof StreamCredentialsRefused ? new Error(error.message) : error;
    }
  }

  async stop(): Promise<void> {
    await this.stream?.stop();
    await this.inbound.stop();
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  async idle(): Promise<void> {
    await this.stream?.idle();
    await this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireDingTalk(channel.platform);
    const outTrackId = outTrackIdFor(card.requestId, channel.channelId);
    const space = conversationOf(channel.channelId);
    if (this.cardTemplateId) {
      const params = renderCardParams(card);
      try {
        await this.api.createAndDeliverCard({
          cardTemplateId: this.cardTemplateId,
          outTrackId,
          space,
          cardParamMap: params,
        });
      } catch (error) {
        // A retried post whose first attempt reached DingTalk: the card exists, so bring it up to date instead.
        if (!isDuplicateOutTrackId(error)) throw error;
        await this.api.updateCard(outTrackId, params);
      }
      this.cards.posted(outTrackId, card.version, renderedDigest(params));
    } else {
      await this.sendMarkdown(space, renderDegradedCard(card, this.robotName));
      this.postedStatus.set(outTrackId, card.status);
    }
    return { platform: 'dingtalk', channelId: channel.channelId, messageId: outTrackId };
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireDingTalk(message.platform);
    if (this.cardTemplateId) {
      const params = renderCardParams(card);
      await this.cards.update(message.messageId, card.version, renderedDigest(params), () =>
        this.api.updateCard(message.messageId, params),
      );
      return;
    }
    // A markdown message cannot change: the redrawn card is posted again when the status changes.
    if (this.postedStatus.get(message.messageId) === card.status) return;
    await this.sendMarkdown(conversationOf(message.channelId), renderDegradedCard(card, this.robotName));
    this.postedStatus.set(message.messageId, card.status);
  }

  /** Never called: DingTalk has no threads (`capabilities.threads` is false), so the outbox uses postMessage. */
  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    return this.postMessage({ platform: message.platform, channelId: message.channelId }, text);
  }

  /**
   * A robot message in the group (or the person's DM with the robot). The mention is written out by name: an
   * app robot's group message cannot notify a person, so the requester also hears about it by DM.
   */
  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    requireDingTalk(channel.platform);
    const mention = options.mention?.platform === 'dingtalk' ? options.mention : undefined;
    const body = mention
      ? `**@${escapeMarkdown(mention.displayName, 100)}** ${escapeMarkdown(text, 3000)}`
      : escapeMarkdown(text, 3000);
    await this.sendMarkdown(conversationOf(channel.channelId), { title: plainText(text, 60), text: body });
    return {
      platform: 'dingtalk',
      channelId: channel.channelId,
      messageId: `post:${this.now()}:${Math.random().toString(36).slice(2, 10)}`,
    };
  }

  /** A DM from the robot; DingTalk addresses it by userid, so where the person was last seen is not needed. */
  async notifyUser(user: UserRef, text: string): Promise<void> {
    requireDingTalk(user.platform);
    await this.api.sendDirectMessage([user.userId], 'sampleText', { content: plainText(text, 5000) });
  }

  /**
   * An answer to what a person did, by DM. If DingTalk refuses the DM, a short public note in the group where they
   * acted tells them so (never the answer itself, which may be meant for them only).
   */
  private async answerPrivately(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void> {
    try {
      await this.notifyUser(user, text);
    } catch (error) {
      const space = conversationOf(lastSeenIn.channelId);
      if (!(error instanceof ChatRefused) || space.kind !== 'group') throw error;
      await this.postMessage(lastSeenIn, t(this.locale, 'inbound.could_not_dm'), { mention: user });
    }
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireDingTalk(user.platform);
    return this.user(user.userId);
  }

  /** topapi/v2/user/get, cached for ten minutes. */
  private async user(userId: string): Promise<ResolvedUser> {
    const cached = this.users.get(userId);
    if (cached) return cached;
    const found = await this.api.getUser(userId);
    const user: ResolvedUser = { userId, displayName: found.name, ...(found.email && { email: found.email }) };
    this.users.set(userId, user);
    return user;
  }

  private async sendMarkdown(
    space: ReturnType<typeof conversationOf>,
    message: { title: string; text: string },
  ): Promise<void> {
    if (space.kind === 'group') await this.api.sendGroupMessage(space.openConversationId, 'sampleMarkdown', message);
    else await this.api.sendDirectMessage([space.userId], 'sampleMarkdown', message);
  }

  /** Wrong credentials stop start-up with a clear message; DingTalk being unreachable only warns. */
  private async checkCredentials(): Promise<void> {
    try {
      await this.api.checkCredentials();
      this.logger.info(
        { mode: this.mode, cards: this.cardTemplateId ? 'template' : 'markdown (degraded)' },
        'dingtalk connected',
      );
    } catch (error) {
      if (error instanceof DingTalkApiError && error.permanent) throw new Error(error.message);
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not reach DingTalk to check the app credentials; continuing',
      );
    }
  }
}

/** DingTalk's answer to a second createAndDeliver with the same outTrackId (the code is matched loosely: undocumented). */
function isDuplicateOutTrackId(error: unknown): boolean {
  if (!(error instanceof ChatRefused)) return false;
  const said = `${error.code} ${error.message}`;
  return /outTrackId/i.test(said) && /dup|exist/i.test(said);
}

function requireDingTalk(platform: string): void {
  if (platform !== 'dingtalk') throw new Error(`the DingTalk adapter was given a ${platform} reference`);
}
