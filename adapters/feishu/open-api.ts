import { createHash, randomUUID } from 'node:crypto';
import { AppType, Client, LoggerLevel, type Cache } from '@larksuiteoapi/node-sdk';
import { isAxiosError } from 'axios';
import type { ApprovalCard } from '../../src/core/card';
import type { HttpLogger } from '../../src/http/server';
import { ChatRefused, type ResolvedUser } from '../../src/ports/chat';
import { renderFeishuCard } from './card-json';
import { fitText } from './feishu-text';
import { feishuHttpInstance, RATE_LIMITED } from './http-instance';
import { feishuSdkLogger } from './sdk-logger';

// Everything jitbot sends to the Feishu/Lark Open API, through the official SDK's Client. The Client fetches and
// caches the tenant token itself, from the same base URL as every other call.

export const FEISHU_DOMAINS = { feishu: 'https://open.feishu.cn', lark: 'https://open.larksuite.com' } as const;
export type FeishuDomain = keyof typeof FEISHU_DOMAINS | (string & {});

const REQUEST_TIMEOUT_MS = 10_000;
const USER_CACHE_MS = 10 * 60_000;
const MAX_CACHED = 5000;
/** A rate-limited call is sent again after the reset Feishu names, at most this many times. */
const RATE_LIMIT_RETRIES = 3;
const MAX_RATE_LIMIT_WAIT_S = 60;
/** The longest text one reply or DM carries; beyond it the message ends in "…". */
export const MAX_MESSAGE_TEXT = 8000;

/** Token problems the SDK recovers from by fetching a new token: worth another try. */
const TOKEN_CODES = new Set([99991661, 99991663, 99991668]);

/** The base URL for `feishu`, `lark` or an explicit base (tests, private deployments). */
export function feishuBaseUrl(domain: FeishuDomain): string {
  const known = FEISHU_DOMAINS[domain as keyof typeof FEISHU_DOMAINS];
  return (known ?? domain).replace(/\/+$/, '');
}

/**
 * A failed Open API call that may work when sent again (a timeout, a 5xx, a rate limit that did not clear).
 * Failures that cannot (the bot is not in the chat, a missing scope) are ChatRefused, which the outbox gives up on.
 */
export class FeishuApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'FeishuApiError';
  }
}

function failure(message: string, permanent: boolean, status?: number, code?: number): Error {
  return permanent
    ? new ChatRefused(message, String(code ?? status ?? 'refused'))
    : new FeishuApiError(message, status, code);
}

export interface FeishuOpenApiOptions {
  appId: string;
  appSecret: string;
  domain: FeishuDomain;
  logger: HttpLogger;
  now: () => number;
  /** Waits before a rate-limited call is sent again (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

export interface PostedMessage {
  messageId: string;
  chatId: string;
  threadId?: string;
}

type ReceiveIdType = 'chat_id' | 'union_id' | 'open_id' | 'email';

interface ApiAnswer {
  code?: number;
  msg?: string;
  data?: unknown;
  [key: string]: unknown;
}

export class FeishuOpenApi {
  readonly client: Client;
  private readonly users = new Map<string, { user: ResolvedUser; openId?: string; until: number }>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: FeishuOpenApiOptions) {
    this.client = new Client({
      appId: options.appId,
      appSecret: options.appSecret,
      appType: AppType.SelfBuild,
      domain: feishuBaseUrl(options.domain),
      httpInstance: feishuHttpInstance(REQUEST_TIMEOUT_MS),
      cache: memoryCache(),
      logger: feishuSdkLogger(options.logger, 'feishu-api'),
      loggerLevel: LoggerLevel.warn,
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The bot's own open_id: group messages count as commands only when they mention it. */
  async botOpenId(): Promise<string> {
    const answer = await this.call('bot info', () =>
      this.client.request<ApiAnswer>({ method: 'GET', url: '/open-apis/bot/v3/info' }),
    );
    const openId = (answer.bot as { open_id?: unknown } | undefined)?.open_id;
    if (typeof openId !== 'string' || openId === '')
      throw failure('Feishu bot info answered without an open_id; is the bot capability enabled?', true);
    return openId;
  }

  /** Posts the card in a chat. One card per request per chat: a retried post carries the same uuid, so it shows once. */
  async postCard(chatId: string, card: ApprovalCard): Promise<PostedMessage> {
    return this.send(
      'chat_id',
      chatId,
      'interactive',
      JSON.stringify(renderFeishuCard(card)),
      stableUuid('card', chatId, card.requestId),
    );
  }

  /** Redraws a card in place (PATCH); works for 14 days on cards that declared update_multi. */
  async updateCard(messageId: string, card: ApprovalCard): Promise<void> {
    await this.call('message patch', () =>
      this.client.im.v1.message.patch({
        path: { message_id: messageId },
        data: { content: JSON.stringify(renderFeishuCard(card)) },
      }),
    );
  }

  /** Replies to a message in its thread (reply_in_thread), as plain text. `delivery`: see {@link deliveryUuid}. */
  async replyInThread(messageId: string, text: string, delivery?: string): Promise<PostedMessage> {
    const content = textContent(text);
    const uuid = deliveryUuid('reply', messageId, delivery);
    const answer = await this.call('message reply', () =>
      this.client.im.v1.message.reply({
        path: { message_id: messageId },
        data: { msg_type: 'post', content, reply_in_thread: true, uuid },
      }),
    );
    return posted(answer, 'message reply');
  }

  /**
   * Replies to a message where it is (no new thread): the answer to a command. The message it answers identifies the
   * delivery; the text is part of it because a message can get a second, different answer (a failure, then the
   * answer replayed after a restart), while the same answer sent again is a retry.
   */
  async replyTo(messageId: string, text: string): Promise<PostedMessage> {
    const content = textContent(text);
    const answer = await this.call('message reply', () =>
      this.client.im.v1.message.reply({
        path: { message_id: messageId },
        data: { msg_type: 'post', content, uuid: stableUuid('answer', messageId, content) },
      }),
    );
    return posted(answer, 'message reply');
  }

  /** A direct message from the bot to a person, by union_id. `delivery`: see {@link deliveryUuid}. */
  async sendToUser(unionId: string, text: string, delivery?: string): Promise<PostedMessage> {
    return this.send('union_id', unionId, 'post', textContent(text), deliveryUuid('dm', unionId, delivery));
  }

  /** Name and email (contact API; the email needs contact:user.email:readonly), cached for ten minutes. */
  async user(unionId: string): Promise<ResolvedUser> {
    return (await this.contact(unionId)).user;
  }

  /** A plain message in a chat, optionally @mentioning one person (which notifies them). `delivery`: see {@link deliveryUuid}. */
  async postText(chatId: string, text: string, mentionUnionId?: string, delivery?: string): Promise<PostedMessage> {
    // An @mention needs this app's open_id for the person; the contact API gives it for the union_id.
    const openId =
      mentionUnionId !== undefined
        ? await this.contact(mentionUnionId).then(
            (c) => c.openId,
            () => undefined,
          )
        : undefined;
    const content = textContent(text, openId);
    return this.send('chat_id', chatId, 'post', content, deliveryUuid('message', chatId, delivery));
  }

  private async contact(unionId: string): Promise<{ user: ResolvedUser; openId?: string }> {
    const cached = this.users.get(unionId);
    if (cached && cached.until > this.options.now()) return cached;
    const answer = await this.call('contact user get', () =>
      this.client.contact.v3.user.get({ path: { user_id: unionId }, params: { user_id_type: 'union_id' } }),
    );
    const info = ((answer.data as { user?: unknown } | undefined)?.user ?? {}) as {
      name?: string;
      en_name?: string;
      email?: string;
      enterprise_email?: string;
      open_id?: string;
    };
    const email = info.email || info.enterprise_email;
    const user: ResolvedUser = {
      userId: unionId,
      displayName: info.name || info.en_name || unionId,
      ...(email && { email }),
    };
    const entry = { user, ...(info.open_id && { openId: info.open_id }), until: this.options.now() + USER_CACHE_MS };
    remember(this.users, unionId, entry);
    return entry;
  }

  private async send(
    receiveIdType: ReceiveIdType,
    receiveId: string,
    msgType: string,
    content: string,
    uuid: string,
  ): Promise<PostedMessage> {
    const answer = await this.call('message create', () =>
      this.client.im.v1.message.create({
        params: { receive_id_type: receiveIdType },
        data: { receive_id: receiveId, msg_type: msgType, content, uuid },
      }),
    );
    return posted(answer, 'message create');
  }

  /**
   * Runs one Open API call. A 429 (code 99991400) is waited out for as long as x-ogw-ratelimit-reset says and sent
   * again: Feishu did not carry it out. Any other failure becomes a ChatRefused (permanent) or a FeishuApiError.
   */
  private async call(what: string, send: () => Promise<unknown>): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt += 1) {
      let answer: ApiAnswer;
      try {
        answer = ((await send()) ?? {}) as ApiAnswer;
      } catch (error) {
        const waitSeconds = rateLimitWait(error);
        if (waitSeconds !== undefined && attempt < RATE_LIMIT_RETRIES) {
          this.options.logger.warn({ call: what, waitSeconds }, 'feishu rate limit: waiting before sending again');
          await this.sleep(waitSeconds * 1000);
          continue;
        }
        throw apiError(what, error);
      }
      if (answer.code !== undefined && answer.code !== 0) {
        throw failure(
          `Feishu ${what} failed: code ${answer.code}: ${answer.msg ?? ''}`.trim(),
          !TOKEN_CODES.has(answer.code),
          200,
          answer.code,
        );
      }
      return answer;
    }
  }
}

/** A post's rich-text content: the text element is shown literally (no mentions, no markdown); `at` is ours. */
function textContent(text: string, mentionOpenId?: string): string {
  const line = [{ tag: 'text', text: fitText(text, MAX_MESSAGE_TEXT) }];
  const paragraph =
    mentionOpenId !== undefined ? [{ tag: 'at', user_id: mentionOpenId }, { tag: 'text', text: ' ' }, ...line] : line;
  return JSON.stringify({ zh_cn: { content: [paragraph] } });
}

function posted(answer: ApiAnswer, what: string): PostedMessage {
  const data = answer.data as { message_id?: string; chat_id?: string; thread_id?: string } | undefined;
  if (!data?.message_id) throw new FeishuApiError(`Feishu ${what} answered without a message_id`);
  return {
    messageId: data.message_id,
    chatId: data.chat_id ?? '',
    ...(data.thread_id && { threadId: data.thread_id }),
  };
}

/**
 * Feishu shows at most one message per `uuid` per hour (a uuid has at most 50 characters): the same post sent twice
 * (a retry) is shown once. 32 hex digits, from what identifies the delivery: two deliveries that say the same thing
 * must get two uuids, or the second is silently not shown.
 */
function stableUuid(...parts: string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * The uuid of one delivery to `target`: derived from the caller's idempotency key (the same on a retry of the same
 * delivery, e.g. an outbox effect), or, without one, unique to this call.
 */
function deliveryUuid(kind: string, target: string, delivery: string | undefined): string {
  return delivery !== undefined ? stableUuid(kind, target, delivery) : randomUUID().replace(/-/g, '');
}

function rateLimitWait(error: unknown): number | undefined {
  if (!isAxiosError(error) || !error.response) return undefined;
  const code = (error.response.data as { code?: unknown } | undefined)?.code;
  if (error.response.status !== 429 && code !== RATE_LIMITED) return undefined;
  const reset = Number(error.response.headers['x-ogw-ratelimit-reset']);
  return Number.isFinite(reset) && reset >= 0 ? Math.min(Math.ceil(reset), MAX_RATE_LIMIT_WAIT_S) : 1;
}

/** What went wrong, without the request (it may hold a token or the app secret). */
function apiError(what: string, error: unknown): Error {
  if (isAxiosError(error)) {
    const status = error.response?.status;
    if (status === undefined) return new FeishuApiError(`Feishu ${what} failed: ${error.code ?? error.message}`);
    const body = error.response?.data as { code?: unknown; msg?: unknown } | undefined;
    const code = typeof body?.code === 'number' ? body.code : undefined;
    const permanent = status >= 400 && status < 500 && status !== 429 && !(code !== undefined && TOKEN_CODES.has(code));
    const detail =
      code !== undefined ? `code ${code}: ${typeof body?.msg === 'string' ? body.msg : ''}` : `HTTP ${status}`;
    return failure(`Feishu ${what} failed: ${detail}`.trim(), permanent, status, code);
  }
  return new FeishuApiError(`Feishu ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** The tenant token cache, per client: the SDK's default is one process-wide cache keyed only by app id. */
function memoryCache(): Cache {
  const entries = new Map<string, { value: unknown; expire?: number }>();
  const key = (k: string | symbol, namespace?: string) => `${namespace ?? ''}/${String(k)}`;
  return {
    async set(k, value, expire, options) {
      entries.set(key(k as symbol, options?.namespace), { value, ...(expire !== undefined && { expire }) });
      return true;
    },
    async get(k, options) {
      const entry = entries.get(key(k as symbol, options?.namespace));
      if (!entry) return undefined;
      if (entry.expire !== undefined && entry.expire < Date.now()) return undefined;
      return entry.value;
    },
  };
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
