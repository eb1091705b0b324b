import { Client } from '@microsoft/teams.api';
import type { HttpLogger } from '../../src/http/server';
import { ChatRefused } from '../../src/ports/chat';
import { type AppTokenSource, TokenRefused } from './app-token';
import { teamsSdkLogger } from './sdk-logger';
import { stripTrailingSlash } from './settings';

// Everything jitbot sends to the Bot Connector (REST API v3), through the Teams SDK's API client: post, reply,
// update activities, open a 1:1 chat, look up a member. The SDK's client is built per service URL (Teams names
// the regional connector in every activity) and authenticates with the bot's own token source (app-token.ts).
// Errors leave here as plain errors naming the connector's code; the SDK's (axios) errors carry the request
// config, bearer token included, and are never rethrown or logged.

const REQUEST_TIMEOUT_MS = 10_000;
/**
 * A 429 means the connector did not carry the call out (Teams limits each bot per thread and per tenant), so it
 * is sent again after Retry-After (default 1 s, at most 10 s), up to three times. Nothing else is retried here:
 * a post that timed out or failed with a 5xx may have gone through, and the outbox decides about it.
 */
const RATE_LIMIT_RETRIES = 3;
const RATE_LIMIT_DEFAULT_WAIT_MS = 1_000;
const RATE_LIMIT_MAX_WAIT_MS = 10_000;

/** Connector answers that no retry will change: the outbox gives the effect up instead of retrying for an hour. */
const PERMANENT_STATUS = new Set([400, 403, 404, 405, 409, 413]);

export interface ActivityBody {
  type: 'message';
  text?: string;
  textFormat?: 'markdown' | 'plain' | 'xml';
  attachments?: { contentType: string; content: unknown }[];
  entities?: unknown[];
  replyToId?: string;
  summary?: string;
}

export interface TeamsMember {
  /** App-scoped id (`29:…`). */
  id: string;
  aadObjectId: string;
  name: string;
  email?: string;
  userPrincipalName?: string;
}

export interface ConnectorOptions {
  appId: string;
  tenantId: string;
  tokens: AppTokenSource;
  logger: HttpLogger;
}

export class TeamsConnector {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly options: ConnectorOptions) {}

  /** Posts an activity in a conversation (a channel's new thread, a chat, a thread by its `;messageid=` id). */
  async post(serviceUrl: string, conversationId: string, activity: ActivityBody): Promise<string> {
    const result = await this.call('post', () =>
      this.client(serviceUrl).conversations.createActivity(encode(conversationId), activity as never),
    );
    return requireId(result, 'post');
  }

  async reply(serviceUrl: string, conversationId: string, replyToId: string, activity: ActivityBody): Promise<string> {
    const result = await this.call('reply', () =>
      this.client(serviceUrl).conversations.replyToActivity(
        encode(conversationId),
        encode(replyToId),
        activity as never,
      ),
    );
    return requireId(result, 'reply');
  }

  async update(serviceUrl: string, conversationId: string, activityId: string, activity: ActivityBody): Promise<void> {
    await this.call('update', () =>
      this.client(serviceUrl).conversations.updateActivity(encode(conversationId), encode(activityId), {
        ...activity,
        id: activityId,
      } as never),
    );
  }

  /** A member of a conversation by app-scoped id or Entra object id: ids, name, email and UPN. */
  async member(serviceUrl: string, conversationId: string, memberId: string): Promise<TeamsMember> {
    const account = (await this.call('member', () =>
      this.client(serviceUrl).conversations.getMemberById(encode(conversationId), encode(memberId)),
    )) as unknown as Record<string, unknown>;
    const id = str(account.id);
    const aadObjectId = str(account.aadObjectId) ?? str(account.objectId);
    if (!id || !aadObjectId) throw new Error('the Bot Connector answered a member look-up without ids');
    const email = str(account.email);
    const upn = str(account.userPrincipalName);
    return {
      id,
      aadObjectId: aadObjectId.toLowerCase(),
      name: str(account.name) ?? aadObjectId,
      ...(email && { email }),
      ...(upn && { userPrincipalName: upn }),
    };
  }

  /** The bot's 1:1 chat with a person (Teams answers with the existing one when there is one). */
  async personalChat(serviceUrl: string, memberId: string): Promise<string> {
    const result = await this.call('personal chat', () =>
      this.client(serviceUrl).conversations.create({
        isGroup: false,
        bot: { id: `28:${this.options.appId}` },
        members: [{ id: memberId }],
        tenantId: this.options.tenantId,
        channelData: { tenant: { id: this.options.tenantId } },
      } as never),
    );
    return requireId(result, 'personal chat');
  }

  private client(serviceUrl: string): Client {
    const key = stripTrailingSlash(serviceUrl);
    let client = this.clients.get(key);
    if (!client) {
      const tokens = this.options.tokens;
      client = new Client(
        key,
        { logger: teamsSdkLogger(this.options.logger, 'teams-connector'), timeout: REQUEST_TIMEOUT_MS },
        { tokenProvider: { getAppToken: () => tokens.token() } },
      );
      this.clients.set(key, client);
      // Activities name a handful of regional connectors; anything beyond that is not worth keeping.
      if (this.clients.size > 20) this.clients.delete(this.clients.keys().next().value!);
    }
    return client;
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const wait = rateLimitWait(error);
        if (wait === undefined || attempt >= RATE_LIMIT_RETRIES) throw connectorError(what, error);
        this.options.logger.warn({ what, waitMs: wait }, 'Bot Connector rate limit: waiting before sending again');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

/** A plain error (or ChatRefused) with the status and the connector's error code; nothing from the request. */
function connectorError(what: string, error: unknown): Error {
  if (error instanceof TokenRefused) return error;
  const response = (error as { response?: { status?: unknown; data?: unknown } })?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  if (status === undefined) {
    const code = (error as { code?: unknown })?.code;
    return new Error(`Teams ${what} failed: ${typeof code === 'string' ? code : 'no answer from the Bot Connector'}`);
  }
  const data = response?.data as { error?: { code?: unknown } } | undefined;
  const code = typeof data?.error?.code === 'string' ? data.error.code.slice(0, 100) : `HTTP ${status}`;
  const message = `Teams ${what} failed: the Bot Connector answered HTTP ${status} (${code})`;
  return PERMANENT_STATUS.has(status) ? new ChatRefused(message, code) : new Error(message);
}

/** How long to wait before sending a rate-limited call again; undefined when the error is not a 429. */
function rateLimitWait(error: unknown): number | undefined {
  const response = (error as { response?: { status?: unknown; headers?: Record<string, unknown> } })?.response;
  if (response?.status !== 429) return undefined;
  const seconds = Number(response.headers?.['retry-after']);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : RATE_LIMIT_DEFAULT_WAIT_MS;
  return Math.min(ms, RATE_LIMIT_MAX_WAIT_MS);
}

function requireId(result: unknown, what: string): string {
  const id = (result as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || !id) throw new Error(`Teams ${what}: the Bot Connector answered without an id`);
  return id;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** Conversation and activity ids go into URL paths; botbuilder encodes them too (`19:…@thread.tacv2;messageid=…`). */
function encode(id: string): string {
  return encodeURIComponent(id);
}
