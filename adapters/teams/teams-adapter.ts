import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import type { AdapterRecords } from '../../src/ports/adapter-module';
import type {
  ChatAdapter,
  ChatCapabilities,
  InboundContext,
  InboundHandler,
  PostMessageOptions,
  ResolvedUser,
} from '../../src/ports/chat';
import { CardVersions, renderedDigest } from '../shared/card-versions';
import type { TeamsOrigin } from './activities';
import { cardAttachment, renderAdaptiveCard } from './adaptive-card';
import { AppTokenSource, TokenRefused } from './app-token';
import { TeamsConnector, type ActivityBody, type TeamsMember } from './connector';
import { TeamsInbound } from './inbound';
import { KnownPeople } from './known-people';
import { mountTeamsMessages } from './messages-route';
import { KnownServiceUrl } from './service-url';
import { teamsEndpoints, teamsSettingsProblems, type TeamsSettings } from './settings';
import { fitText, messageText } from './teams-text';
import { BotConnectorTokenCheck } from './token-check';

export { TEAMS_MESSAGES_PATH } from './messages-route';

export interface TeamsAdapterOptions {
  logger?: HttpLogger;
  /** Epoch milliseconds (token expiry, caches). */
  now?: () => number;
  /**
   * Durable state, kept across restarts: the Bot Connector's service URL learned from verified traffic, and the ids
   * needed to reach each person seen (app-scoped id, last conversation, 1:1 chat).
   */
  records?: AdapterRecords;
}

const MESSAGE_MAX = 12_000;
const MEMBER_CACHE_MS = 10 * 60_000;

/**
 * Microsoft Teams, through the Teams SDK's Bot Connector client. Mounts `POST /teams/messages` on jitbot's server.
 * Commands are messages that @mention the bot (or any message in its 1:1 chat); cards are Adaptive Cards whose
 * Action.Execute clicks are answered in the invoke response; everyone else sees a decision by an update of the
 * posted card; thread replies go in the card's reply chain; DMs are proactive 1:1 messages.
 */
export class TeamsAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'teams' as const;
  readonly capabilities: ChatCapabilities = {
    threads: true,
    privateClickReply: true,
    privateCommandReply: false,
    cardInClickResponse: true,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };

  private readonly logger: HttpLogger;
  private readonly now: () => number;
  private readonly tokens: AppTokenSource;
  private readonly connector: TeamsConnector;
  private readonly inbound: TeamsInbound;
  private readonly cards = new CardVersions();
  /** How to reach each person seen, by Entra object id; kept in the records. */
  private readonly people: KnownPeople;
  /** The tenant's Bot Connector: configured (or the cloud's default) until a verified activity names its own. */
  private readonly knownServiceUrl: KnownServiceUrl;

  constructor(
    private readonly settings: TeamsSettings,
    options: TeamsAdapterOptions = {},
  ) {
    const problems = teamsSettingsProblems(settings);
    if (problems.length > 0) throw new Error(`the Teams adapter cannot start: ${problems.join('; ')}`);
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    const endpoints = teamsEndpoints(settings);
    this.people = new KnownPeople({ ...(options.records && { records: options.records }), logger: this.logger });
    this.knownServiceUrl = new KnownServiceUrl(endpoints.serviceUrl, {
      ...(options.records && { records: options.records }),
      logger: this.logger,
    });
    this.tokens = new AppTokenSource({
      appId: settings.appId,
      credential: settings.credential,
      tokenUrl: endpoints.tokenUrl,
      scope: endpoints.scope,
      now: this.now,
    });
    this.connector = new TeamsConnector({
      appId: settings.appId,
      tenantId: settings.tenantId,
      tokens: this.tokens,
      logger: this.logger,
    });
    this.inbound = new TeamsInbound({
      tokenCheck: new BotConnectorTokenCheck({
        appId: settings.appId,
        issuer: endpoints.issuer,
        openIdMetadataUrl: endpoints.openIdMetadataUrl,
        now: this.now,
        logger: this.logger,
      }),
      tenantId: settings.tenantId,
      capabilities: this.capabilities,
      logger: this.logger,
      serviceUrlSeen: (serviceUrl) => this.knownServiceUrl.seen(serviceUrl),
      seen: (origin, actor) => this.seen(origin, actor),
      notifyUser: (user, text, lastSeenIn) => this.notifyUser(user, text, lastSeenIn),
    });
  }

  mount(app: express.Express): void {
    mountTeamsMessages(app, {
      logger: this.logger,
      receive: (authorization, body) => this.inbound.receive(authorization, body),
    });
  }

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    await this.checkCredential();
    await this.knownServiceUrl.load();
    this.inbound.start(onEvent, context);
  }

  /** Stops taking activities, and lets what was learned be written before the store closes. */
  async stop(): Promise<void> {
    await this.inbound.stop();
    await this.knownServiceUrl.idle();
    await this.people.idle();
  }

  /** Resolves when every activity received so far has been handled and answered (tests, shutdown). */
  async idle(): Promise<void> {
    await this.inbound.idle();
    await this.knownServiceUrl.idle();
    await this.people.idle();
  }

  private get serviceUrl(): string {
    return this.knownServiceUrl.value;
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireTeams(channel.platform);
    const activity = cardActivity(card);
    const id = await this.connector.post(this.serviceUrl, channel.channelId, activity);
    this.cards.posted(messageKey(channel.channelId, id), card.version, renderedDigest(activity));
    return { platform: 'teams', channelId: channel.channelId, messageId: id };
  }

  /** Everyone's view of the card (the clicker's was replaced by the invoke response already). */
  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireTeams(message.platform);
    const activity = cardActivity(card);
    await this.cards.update(
      messageKey(message.channelId, message.messageId),
      card.version,
      renderedDigest(activity),
      () => this.connector.update(this.serviceUrl, message.channelId, message.messageId, activity),
    );
  }

  /** In a channel, a reply in the card's thread; in a chat (no threads there), a reply quoting the card. */
  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    requireTeams(message.platform);
    const root = message.threadId ?? message.messageId;
    const activity = textActivity(text);
    const id = isChannel(message.channelId)
      ? await this.connector.post(this.serviceUrl, `${message.channelId};messageid=${root}`, {
          ...activity,
          replyToId: root,
        })
      : await this.connector.reply(this.serviceUrl, message.channelId, root, activity);
    return { platform: 'teams', channelId: message.channelId, messageId: id, threadId: root };
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    requireTeams(channel.platform);
    const activity = textActivity(text);
    const mention = options.mention?.platform === 'teams' ? options.mention : undefined;
    if (mention) {
      const name = fitText(mention.displayName, 100).replace(/[<>]/g, '');
      const tag = `<at>${name}</at>`;
      activity.text = `${tag} ${activity.text ?? ''}`;
      activity.entities = [
        {
          type: 'mention',
          text: tag,
          mentioned: { id: (await this.people.get(mention.userId)).fromId ?? mention.userId, name },
        },
      ];
    }
    const id = await this.connector.post(this.serviceUrl, channel.channelId, activity);
    return { platform: 'teams', channelId: channel.channelId, messageId: id };
  }

  /**
   * A proactive message in the bot's 1:1 chat with the person, opened (or found) by their app-scoped id. Works for
   * anyone seen before, also across restarts; someone never seen needs a conversation to be looked up in.
   */
  async notifyUser(user: UserRef, text: string, lastSeenIn?: ChannelRef): Promise<void> {
    requireTeams(user.platform);
    const person = await this.people.get(user.userId);
    let chat = person.personalChat;
    if (!chat) {
      const fromId = person.fromId ?? (await this.member(user, lastSeenIn)).id;
      chat = await this.connector.personalChat(this.serviceUrl, fromId);
      this.people.learned(user.userId, { personalChat: chat });
    }
    await this.connector.post(this.serviceUrl, chat, textActivity(text));
  }

  /** Name and email (else UPN) from the conversation's member list, cached for ten minutes. */
  async resolveUser(user: UserRef, lastSeenIn?: ChannelRef): Promise<ResolvedUser> {
    requireTeams(user.platform);
    const member = await this.member(user, lastSeenIn);
    const email = member.email ?? member.userPrincipalName;
    return { userId: user.userId, displayName: member.name || user.displayName, ...(email && { email }) };
  }

  private async member(user: UserRef, lastSeenIn?: ChannelRef): Promise<TeamsMember> {
    const person = await this.people.get(user.userId);
    if (person.member && (person.memberUntil ?? 0) > this.now()) return person.member;
    const conversationId =
      (lastSeenIn?.platform === 'teams' ? lastSeenIn.channelId : undefined) ?? person.conversationId;
    if (!conversationId) {
      throw new Error(
        `Teams looks people up within a conversation, and none is known for teams:${user.userId} yet: ` +
          'they need to message the bot once (or have the jitbot app installed for them) before jitbot can DM them',
      );
    }
    const member = await this.connector.member(this.serviceUrl, conversationId, person.fromId ?? user.userId);
    Object.assign(person, { member, memberUntil: this.now() + MEMBER_CACHE_MS });
    this.people.learned(user.userId, { fromId: member.id });
    return member;
  }

  /** A verified activity from the person: their ids, kept when new (a known person's next click writes nothing). */
  private seen(origin: TeamsOrigin, actor: UserRef): void {
    this.people.learned(actor.userId, {
      fromId: origin.fromId,
      conversationId: origin.conversationId,
      ...(origin.personal && { personalChat: origin.conversationId }),
    });
  }

  /** A refused credential stops start-up with a clear message; Entra being unreachable only warns. */
  private async checkCredential(): Promise<void> {
    try {
      await this.tokens.token();
      this.logger.info({ appId: this.settings.appId, cloud: this.settings.cloud }, 'teams connected');
    } catch (error) {
      if (error instanceof TokenRefused) throw error;
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not reach Entra to check the Teams credential; continuing',
      );
    }
  }
}

function cardActivity(card: ApprovalCard): ActivityBody {
  const rendered = renderAdaptiveCard(card);
  return { type: 'message', summary: rendered.fallbackText, attachments: [cardAttachment(card)] };
}

function textActivity(text: string): ActivityBody {
  return { type: 'message', text: messageText(text, MESSAGE_MAX), textFormat: 'markdown' };
}

/** Team channels have threads (`19:…@thread.tacv2`, older `@thread.skype`); group and 1:1 chats do not. */
function isChannel(conversationId: string): boolean {
  return /@thread\.(tacv2|skype)$/.test(conversationId);
}

function messageKey(conversationId: string, activityId: string): string {
  return `${conversationId}/${activityId}`;
}

function requireTeams(platform: string): void {
  if (platform !== 'teams') throw new Error(`the Teams adapter was given a ${platform} reference`);
}
