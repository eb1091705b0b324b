import { ErrorCode, WebClient, type RetryOptions } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { ApprovalCard } from '../../src/core/card';
import type { MessageRef } from '../../src/core/model';
import type { HttpLogger } from '../../src/http/server';
import { ChatRefused, type ResolvedUser } from '../../src/ports/chat';
import { CardVersions, renderedDigest } from '../shared/card-versions';
import { renderBlockKit } from './block-kit';
import { replyMessage } from './messages';
import { slackSdkLogger } from './sdk-logger';

// Everything jitbot sends to Slack's Web API, through Slack's WebClient.

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
const REQUEST_TIMEOUT_MS = 10_000;
const USER_CACHE_MS = 10 * 60_000;
const MAX_CACHED = 5000;

/**
 * Only a 429 is retried: WebClient waits for Retry-After, then sends the call again, so a rate-limited post goes
 * out once. Any other failure (a timeout, a reset connection, a 5xx) may hide a call Slack already carried out;
 * sending chat.postMessage again could post a second card, so it fails and the outbox decides what to do.
 */
const RATE_LIMIT_RETRIES: RetryOptions & { onFailedAttempt(error: Error): void } = {
  retries: 3,
  minTimeout: 0,
  maxTimeout: 0,
  onFailedAttempt(error) {
    if (!isWaitedOutRateLimit(error)) throw error;
  },
};

/**
 * WebClient signals "rate limited, waited Retry-After, try again" with an error wrapping one whose message starts
 * like this (WebClient.makeRequest). The rate-limit test in test/adapters/slack pins this down.
 */
function isWaitedOutRateLimit(error: Error): boolean {
  const original = (error as { original?: unknown }).original;
  const message = original instanceof Error ? original.message : error.message;
  return message.startsWith('A rate limit was exceeded');
}

export interface SlackWebApiOptions {
  botToken: string;
  apiUrl?: string;
  logger: HttpLogger;
  now: () => number;
}

export interface SlackIdentity {
  teamId?: string;
  botUserId?: string;
}

export class SlackWebApi {
  private readonly client: WebClient;
  private readonly cards = new CardVersions();
  private readonly users: LRUCache<string, ResolvedUser>;
  private readonly dmChannels = new LRUCache<string, string>({ max: MAX_CACHED });

  constructor(options: SlackWebApiOptions) {
    this.users = new LRUCache({ max: MAX_CACHED, ttl: USER_CACHE_MS, ttlResolution: 0, perf: { now: options.now } });
    this.client = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl ?? DEFAULT_SLACK_API_URL,
      logger: slackSdkLogger(options.logger, 'slack-web-api'),
      retryConfig: RATE_LIMIT_RETRIES,
      rejectRateLimitedCalls: false,
      timeout: REQUEST_TIMEOUT_MS,
    });
  }

  async identity(): Promise<SlackIdentity> {
    const result = await this.client.auth.test();
    return { teamId: result.team_id, botUserId: result.user_id };
  }

  async postCard(channelId: string, card: ApprovalCard): Promise<MessageRef> {
    const message = renderBlockKit(card);
    const result = await refusing(
      this.client.chat.postMessage({ channel: channelId, ...message, unfurl_links: false, unfurl_media: false }),
    );
    const ts = result.ts;
    if (!ts) throw new Error('chat.postMessage answered without a message ts');
    const channel = result.channel ?? channelId;
    this.cards.posted(messageKey(channel, ts), card.version, renderedDigest(message));
    return { platform: 'slack', channelId: channel, messageId: ts };
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    const rendered = renderBlockKit(card);
    await this.cards.update(
      messageKey(message.channelId, message.messageId),
      card.version,
      renderedDigest(rendered),
      async () => {
        await refusing(this.client.chat.update({ channel: message.channelId, ts: message.messageId, ...rendered }));
      },
    );
  }

  /**
   * Posts a plain-text message (in a thread when `threadTs` is given); returns its ts. `mention` is a ready-made
   * `<@U…>` put before the text.
   */
  async postText(
    channelId: string,
    text: string,
    threadTs?: string,
    mention = '',
  ): Promise<{ channelId: string; ts: string }> {
    const message = replyMessage(text);
    const result = await refusing(
      this.client.chat.postMessage({
        channel: channelId,
        ...(mention
          ? {
              text: `${mention} ${message.text}`,
              blocks: [{ type: 'section', text: { type: 'mrkdwn', text: mention } }, ...message.blocks],
            }
          : message),
        ...(threadTs !== undefined && { thread_ts: threadTs }),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (!result.ts) throw new Error('chat.postMessage answered without a message ts');
    return { channelId: result.channel ?? channelId, ts: result.ts };
  }

  /** The bot's DM channel with a user (opened once, then remembered). */
  async dmChannel(userId: string): Promise<string> {
    const known = this.dmChannels.get(userId);
    if (known) return known;
    const result = await refusing(this.client.conversations.open({ users: userId }));
    const channelId = result.channel?.id;
    if (!channelId) throw new Error('conversations.open answered without a channel id');
    this.dmChannels.set(userId, channelId);
    return channelId;
  }

  /** users.info, cached for ten minutes: email (needs users:read.email) and the name people see. */
  async user(userId: string): Promise<ResolvedUser> {
    const cached = this.users.get(userId);
    if (cached) return cached;
    const result = await refusing(this.client.users.info({ user: userId }));
    const info = result.user;
    if (!info) throw new Error('users.info answered without a user');
    const profile = info.profile ?? {};
    const displayName = profile.display_name || profile.real_name || info.real_name || info.name || userId;
    const user: ResolvedUser = { userId, displayName, ...(profile.email && { email: profile.email }) };
    this.users.set(userId, user);
    return user;
  }

  /** Whether the bot is in the channel (it must be, to post in a private channel). */
  async isMember(channelId: string): Promise<boolean> {
    try {
      const result = await this.client.conversations.info({ channel: channelId });
      return result.channel?.is_member === true || result.channel?.is_im === true;
    } catch (error) {
      // A private channel the bot is not in looks, to the bot, like no channel at all.
      if (platformErrorCode(error) === 'channel_not_found') return false;
      throw error;
    }
  }
}

function messageKey(channelId: string, ts: string): string {
  return `${channelId}/${ts}`;
}

/** Slack's error code when the call was answered `ok: false`. */
function platformErrorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; data?: { error?: unknown } } | undefined;
  return e?.code === ErrorCode.PlatformError && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

/**
 * Slack's answers that no retry can change: the channel, message or user is gone or closed to the bot, or the
 * message itself is unacceptable. Rate limits, outages and token problems are not here: they pass or get fixed.
 */
const PERMANENT_ERRORS = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'invalid_blocks_format',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'thread_not_found',
  'user_not_found',
  'user_not_visible',
  'user_disabled',
  'cannot_dm_bot',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'ekm_access_denied',
]);

/** Awaits a Web API call; a permanent platform error becomes a ChatRefused so the outbox stops retrying it. */
async function refusing<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const code = platformErrorCode(error);
    if (code !== undefined && PERMANENT_ERRORS.has(code))
      throw new ChatRefused(`Slack refused the call: ${code}`, code);
    throw error;
  }
}
