import type express from 'express';
import type { ApprovalCard } from '../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../src/core/model';
import { silentLogger } from '../../src/http/middleware';
import type { HttpLogger, HttpMount } from '../../src/http/server';
import type {
  ChatAdapter,
  ChatCapabilities,
  InboundContext,
  InboundHandler,
  PostMessageOptions,
  ResolvedUser,
} from '../../src/ports/chat';
import type { SlackSettings } from './config';
import { mountSlackEvents } from './events-route';
import { DEFAULT_SLASH_COMMAND, SlackInbound } from './inbound';
import { connectSocketMode, type SocketModeConnection } from './socket-mode';
import { DEFAULT_SLACK_API_URL, SlackWebApi } from './web-api';

export { renderBlockKit, type Block, type BlockKitMessage } from './block-kit';
export { SLACK_EVENTS_PATH } from './events-route';

export interface SlackAdapterOptions extends SlackSettings {
  logger?: HttpLogger;
  /** Epoch milliseconds; request timestamps are checked against it. */
  now?: () => number;
}

const RESPONSE_TIMEOUT_MS = 10_000;

/**
 * Slack. HTTP mode: mounts `POST /slack/events` on jitbot's server (slash commands, interactivity and events on one
 * URL). Socket Mode, when an app-level token is configured: connects out to Slack, no inbound port, and mounts
 * nothing. Either way each delivery is acknowledged at once (the shared dispatcher's ack-then-answer mode) and the
 * core's Reply reaches the person ephemerally.
 */
export class SlackAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'slack' as const;
  readonly capabilities: ChatCapabilities = {
    threads: true,
    privateClickReply: true,
    privateCommandReply: true,
    cardInClickResponse: false,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };

  private readonly api: SlackWebApi;
  private readonly inbound: SlackInbound;
  private readonly logger: HttpLogger;
  private readonly now: () => number;
  private socket: SocketModeConnection | undefined;

  constructor(private readonly options: SlackAdapterOptions) {
    if (!options.botToken) throw new Error('the Slack adapter needs a bot token (SLACK_BOT_TOKEN)');
    if (!options.appToken && !options.signingSecret) {
      throw new Error(
        'the Slack adapter needs a signing secret (SLACK_SIGNING_SECRET) to verify requests in HTTP mode',
      );
    }
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.api = new SlackWebApi({
      botToken: options.botToken,
      apiUrl: options.apiUrl,
      logger: this.logger,
      now: this.now,
    });
    this.inbound = new SlackInbound({
      logger: this.logger,
      capabilities: this.capabilities,
      command: options.command ?? DEFAULT_SLASH_COMMAND,
      displayName: async (userId) => (await this.api.user(userId)).displayName,
      respond: postToResponseUrl,
      notifyUser: (user, text) => this.notifyUser(user, text),
    });
  }

  get socketMode(): boolean {
    return Boolean(this.options.appToken);
  }

  mount(app: express.Express): void {
    if (this.socketMode) return;
    mountSlackEvents(app, {
      signingSecret: this.options.signingSecret,
      now: this.now,
      receive: (delivery) => this.inbound.receive(delivery),
    });
  }

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    await this.checkToken();
    this.inbound.start(onEvent, context);
    if (this.socketMode && !this.socket) {
      try {
        this.socket = await connectSocketMode({
          appToken: this.options.appToken!,
          apiUrl: this.options.apiUrl ?? DEFAULT_SLACK_API_URL,
          logger: this.logger,
          receive: (delivery) => this.inbound.receive(delivery),
        });
      } catch (error) {
        await this.inbound.stop();
        throw error;
      }
    }
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    await socket?.stop();
    await this.inbound.stop();
  }

  /** Resolves when every delivery received so far has been handled and answered (tests, shutdown). */
  idle(): Promise<void> {
    return this.inbound.idle();
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    requireSlack(channel.platform);
    return this.api.postCard(channel.channelId, card);
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    requireSlack(message.platform);
    await this.api.updateCard(message, card);
  }

  async replyInThread(message: MessageRef, text: string): Promise<MessageRef> {
    requireSlack(message.platform);
    // A reference to a thread reply answers in the same thread.
    const threadTs = message.threadId ?? message.messageId;
    const posted = await this.api.postText(message.channelId, text, threadTs);
    return { platform: 'slack', channelId: posted.channelId, messageId: posted.ts, threadId: threadTs };
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    requireSlack(channel.platform);
    const mention = options.mention ? mentionOf(options.mention) : '';
    const posted = await this.api.postText(channel.channelId, text, undefined, mention);
    return { platform: 'slack', channelId: posted.channelId, messageId: posted.ts };
  }

  /** Slack's DM channel is opened by user id alone; where the person was last seen is not needed. */
  async notifyUser(user: UserRef, text: string): Promise<void> {
    requireSlack(user.platform);
    await this.api.postText(await this.api.dmChannel(user.userId), text);
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    requireSlack(user.platform);
    return this.api.user(user.userId);
  }

  async canPostIn(channel: ChannelRef): Promise<boolean> {
    requireSlack(channel.platform);
    return this.api.isMember(channel.channelId);
  }

  /** A wrong or revoked token stops start-up with a clear message; Slack being unreachable only warns. */
  private async checkToken(): Promise<void> {
    try {
      const who = await this.api.identity();
      this.logger.info({ team: who.teamId, botUser: who.botUserId, socketMode: this.socketMode }, 'slack connected');
    } catch (error) {
      const code = (error as { data?: { error?: unknown } }).data?.error;
      if (typeof code === 'string')
        throw new Error(`Slack refused the bot token (auth.test: ${code}); check SLACK_BOT_TOKEN`);
      this.logger.warn({ err: describe(error) }, 'could not reach Slack to check the bot token; continuing');
    }
  }
}

async function postToResponseUrl(responseUrl: string, message: Record<string, unknown>): Promise<void> {
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(message),
    redirect: 'error',
    signal: AbortSignal.timeout(RESPONSE_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`response_url answered HTTP ${response.status}`);
}

/** A mention of a Slack user; ids are checked so nothing else can be injected as markup. */
function mentionOf(user: UserRef): string {
  return user.platform === 'slack' && /^[UW][A-Z0-9]+$/.test(user.userId) ? `<@${user.userId}>` : '';
}

function requireSlack(platform: string): void {
  if (platform !== 'slack') throw new Error(`the Slack adapter was given a ${platform} reference`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
