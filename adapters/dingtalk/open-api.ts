import type { HttpLogger } from '../../src/http/server';
import { ChatRefused } from '../../src/ports/chat';

// Everything jitbot sends to DingTalk: the new open API (api.dingtalk.com, JSON, the app access token in the
// `x-acs-dingtalk-access-token` header, errors as HTTP status + `{code, message}`) and the old one
// (oapi.dingtalk.com, `?access_token=`, errors as `{errcode, errmsg}` with HTTP 200). Both hosts are settings.
//
// Only a refusal for going over the rate limit is retried, after a backoff: DingTalk did not carry such a call
// out, so sending it again cannot post twice. An expired token is refreshed and the call sent once more, for the
// same reason. A call DingTalk refused (4xx, or an oapi errcode) throws ChatRefused, so the outbox gives it up
// instead of retrying what cannot work; anything else (outages, timeouts) throws DingTalkApiError and the outbox
// decides (it may have been carried out, so the client does not send it again itself).

export const DEFAULT_API_URL = 'https://api.dingtalk.com';
export const DEFAULT_OAPI_URL = 'https://oapi.dingtalk.com';
const REQUEST_TIMEOUT_MS = 10_000;
/** Refresh the token this long before DingTalk says it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

/** oapi errcodes for "over the rate limit" (QPS, per-minute and daily call limits). */
const OAPI_RATE_LIMIT_CODES = new Set([88, 90002, 90005, 90006, 90018, 90019]);
/** oapi errcodes for an invalid or expired access token. */
const OAPI_TOKEN_CODES = new Set([40001, 40014, 42001]);

export interface RateLimitRetry {
  retries: number;
  /** First wait when DingTalk gives no Retry-After; doubled each time, with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RATE_LIMIT_RETRY: RateLimitRetry = { retries: 4, initialDelayMs: 1_000, maxDelayMs: 20_000 };

export interface OpenApiOptions {
  clientId: string;
  clientSecret: string;
  /** The robot that posts; for an internal app's robot this is the app's client id (AppKey). */
  robotCode?: string;
  apiUrl?: string;
  oapiUrl?: string;
  logger: HttpLogger;
  now?: () => number;
  rateLimit?: Partial<RateLimitRetry>;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A call that failed in a way that may pass (an outage, rate limits that did not lift), or a refused app
 * credential (`permanent`: start-up stops on it). Refusals of a call itself are ChatRefused.
 */
export class DingTalkApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DingTalkApiError';
  }
}

export type OpenSpace = { kind: 'group'; openConversationId: string } | { kind: 'direct'; userId: string };

export interface CardDelivery {
  cardTemplateId: string;
  outTrackId: string;
  space: OpenSpace;
  cardParamMap: Record<string, string>;
  /** Group cards only: userids to @-mention in the conversation when the card arrives. */
  atUserIds?: Record<string, string>;
}

export interface DingTalkUser {
  userId: string;
  name: string;
  email?: string;
  unionId?: string;
}

export type RobotMessageKey = 'sampleText' | 'sampleMarkdown';

type Outcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'rate_limited'; retryAfterMs?: number }
  | { kind: 'bad_token' }
  | { kind: 'error'; error: Error };

export class DingTalkOpenApi {
  private readonly apiUrl: string;
  private readonly oapiUrl: string;
  private readonly retry: RateLimitRetry;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { value: string; until: number } | undefined;
  private refreshing: Promise<string> | undefined;

  constructor(private readonly options: OpenApiOptions) {
    this.apiUrl = trimSlash(options.apiUrl ?? DEFAULT_API_URL);
    this.oapiUrl = trimSlash(options.oapiUrl ?? DEFAULT_OAPI_URL);
    this.retry = { ...DEFAULT_RATE_LIMIT_RETRY, ...options.rateLimit };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get robotCode(): string {
    return this.options.robotCode ?? this.options.clientId;
  }

  /** Fetches a token now: a wrong client id or secret shows at start-up. */
  async checkCredentials(): Promise<void> {
    this.token = undefined;
    await this.accessToken();
  }

  /** Creates an interactive card instance and delivers it to a group (by the robot) or to one person's robot chat. */
  async createAndDeliverCard(delivery: CardDelivery): Promise<void> {
    const { space } = delivery;
    const body: Record<string, unknown> = {
      cardTemplateId: delivery.cardTemplateId,
      outTrackId: delivery.outTrackId,
      callbackType: 'STREAM',
      cardData: { cardParamMap: delivery.cardParamMap },
    };
    if (space.kind === 'group') {
      body.openSpaceId = `dtv1.card//IM_GROUP.${space.openConversationId}`;
      body.imGroupOpenSpaceModel = { supportForward: false };
      body.imGroupOpenDeliverModel = {
        robotCode: this.robotCode,
        ...(delivery.atUserIds && { atUserIds: delivery.atUserIds }),
      };
    } else {
      body.openSpaceId = `dtv1.card//IM_ROBOT.${space.userId}`;
      body.imRobotOpenSpaceModel = { supportForward: false };
      body.imRobotOpenDeliverModel = { spaceType: 'IM_ROBOT', robotCode: this.robotCode };
    }
    const result = (await this.call('api', 'POST', '/v1.0/card/instances/createAndDeliver', body)) as
      | { result?: { deliverResults?: { success?: boolean; errorMsg?: string }[] } }
      | undefined;
    const deliveries = result?.result?.deliverResults ?? [];
    const failed = deliveries.find((d) => d.success === false);
    if (failed)
      throw new ChatRefused(
        `DingTalk created the card but could not deliver it: ${failed.errorMsg ?? 'no reason given'}`,
        'deliverFailed',
      );
  }

  /** Replaces the card's public data by key (keys not given keep their value). */
  async updateCard(outTrackId: string, cardParamMap: Record<string, string>): Promise<void> {
    await this.call('api', 'PUT', '/v1.0/card/instances', {
      outTrackId,
      cardData: { cardParamMap },
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    });
  }

  /** Sets one person's private data on the card by key (only they see it; the public data is left as it is). */
  async updatePrivateData(outTrackId: string, userId: string, cardParamMap: Record<string, string>): Promise<void> {
    await this.call('api', 'PUT', '/v1.0/card/instances', {
      outTrackId,
      privateData: { [userId]: { cardParamMap } },
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
      userIdType: 1,
    });
  }

  async sendGroupMessage(
    openConversationId: string,
    msgKey: RobotMessageKey,
    msgParam: Record<string, unknown>,
  ): Promise<void> {
    await this.call('api', 'POST', '/v1.0/robot/groupMessages/send', {
      robotCode: this.robotCode,
      openConversationId,
      msgKey,
      msgParam: JSON.stringify(msgParam),
    });
  }

  /**
   * A message from the robot in each person's one-to-one chat with it. DingTalk answers 200 even when it held the
   * message back from some people for flow control (`flowControlledStaffIdList`): those did not get it, so it is
   * sent to them again after a backoff, like any rate-limited call, and is a retryable RateLimited error if they
   * stay held back.
   */
  async sendDirectMessage(
    userIds: string[],
    msgKey: RobotMessageKey,
    msgParam: Record<string, unknown>,
  ): Promise<void> {
    let recipients = userIds;
    for (let attempt = 0; ; attempt++) {
      const result = (await this.call('api', 'POST', '/v1.0/robot/oToMessages/batchSend', {
        robotCode: this.robotCode,
        userIds: recipients,
        msgKey,
        msgParam: JSON.stringify(msgParam),
      })) as { invalidStaffIdList?: unknown[]; flowControlledStaffIdList?: unknown[] } | undefined;
      const invalid = result?.invalidStaffIdList ?? [];
      if (invalid.length > 0) {
        throw new ChatRefused(`DingTalk has no user ${invalid.join(', ')} to message`, 'invalidStaffId');
      }
      const held = (result?.flowControlledStaffIdList ?? []).filter((id): id is string => typeof id === 'string');
      if (held.length === 0) return;
      recipients = held;
      await this.waitToRetry(attempt, {
        gaveUp: `DingTalk kept holding back the message to ${held.length} person(s) for flow control`,
        log: { path: '/v1.0/robot/oToMessages/batchSend', heldBack: held.length },
        msg: 'dingtalk flow control held a message back; waiting before sending it again',
      });
    }
  }

  /** topapi/v2/user/get: name, and the email (personal `email`, else the enterprise `org_email`) when the app may read it. */
  async getUser(userId: string): Promise<DingTalkUser> {
    const result = (await this.call('oapi', 'POST', '/topapi/v2/user/get', { userid: userId, language: 'en_US' })) as
      | { result?: Record<string, unknown> }
      | undefined;
    const user = result?.result ?? {};
    const email = nonEmpty(user.email) ?? nonEmpty(user.org_email);
    const unionId = nonEmpty(user.unionid);
    return { userId, name: nonEmpty(user.name) ?? userId, ...(email && { email }), ...(unionId && { unionId }) };
  }

  private async call(host: 'api' | 'oapi', method: string, path: string, body: unknown): Promise<unknown> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const outcome = await this.send(host, method, path, body, token);
      switch (outcome.kind) {
        case 'ok':
          return outcome.body;
        case 'error':
          throw outcome.error;
        case 'bad_token':
          if (refreshed)
            throw new DingTalkApiError(
              `DingTalk refused a fresh access token for ${path}`,
              401,
              'InvalidAuthentication',
              false,
            );
          refreshed = true;
          if (this.token?.value === token) this.token = undefined;
          continue;
        case 'rate_limited':
          await this.waitToRetry(attempt, {
            gaveUp: `DingTalk kept refusing ${path} over its rate limit`,
            log: { path },
            msg: 'dingtalk rate limit; waiting before sending again',
            ...(outcome.retryAfterMs !== undefined && { retryAfterMs: outcome.retryAfterMs }),
          });
      }
    }
  }

  /**
   * Before a rate-limited call is sent again: waits (DingTalk's Retry-After, else the backoff) and says so in the
   * log, or, once the retries are spent, throws a retryable RateLimited error the outbox backs off on.
   */
  private async waitToRetry(
    attempt: number,
    why: { gaveUp: string; log: Record<string, unknown>; msg: string; retryAfterMs?: number },
  ): Promise<void> {
    if (attempt >= this.retry.retries) throw new DingTalkApiError(why.gaveUp, 429, 'RateLimited', false);
    const delay = why.retryAfterMs ?? this.backoff(attempt);
    this.options.logger.warn({ ...why.log, delayMs: delay, attempt }, why.msg);
    await this.sleep(delay);
  }

  /** Jittered doubling: between half and all of initialDelayMs × 2^attempt, capped at maxDelayMs. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** attempt);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async send(
    host: 'api' | 'oapi',
    method: string,
    path: string,
    body: unknown,
    token: string,
  ): Promise<Outcome> {
    const url =
      host === 'api' ? this.apiUrl + path : `${this.oapiUrl}${path}?access_token=${encodeURIComponent(token)}`;
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (host === 'api') headers['x-acs-dingtalk-access-token'] = token;
    const response = await fetch(url, {
      method,
      headers,
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    const parsed = parseJson(text) as
      | { code?: unknown; message?: unknown; errcode?: unknown; errmsg?: unknown }
      | undefined;
    const code = typeof parsed?.code === 'string' ? parsed.code : '';

    if (response.status === 429 || /QpsLimit|FlowControl|Throttl/i.test(code)) {
      return { kind: 'rate_limited', ...retryAfter(response) };
    }
    // Only these mean the token itself is bad. A 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied` is a
    // permission the app lacks: a fresh token cannot help, so it is a refusal that names the permission.
    if (response.status === 401 || code === 'InvalidAuthentication') return { kind: 'bad_token' };
    if (!response.ok) {
      const message = typeof parsed?.message === 'string' ? parsed.message : '';
      const scopes = requiredScopes(parsed);
      const described =
        `DingTalk refused ${path} (HTTP ${response.status} ${code || 'no code'}${message ? `: ${message}` : ''})` +
        (scopes ? `; the app needs the permission ${scopes}` : '');
      if (response.status >= 400 && response.status < 500)
        return { kind: 'error', error: new ChatRefused(described, code || `HTTP ${response.status}`) };
      return {
        kind: 'error',
        error: new DingTalkApiError(described, response.status, code || `HTTP ${response.status}`, false),
      };
    }
    if (parsed === undefined) {
      return {
        kind: 'error',
        error: new DingTalkApiError(
          `DingTalk answered ${path} with something other than JSON`,
          response.status,
          'BadResponse',
          false,
        ),
      };
    }
    if (host === 'oapi' && typeof parsed.errcode === 'number' && parsed.errcode !== 0) {
      if (OAPI_RATE_LIMIT_CODES.has(parsed.errcode)) return { kind: 'rate_limited' };
      if (OAPI_TOKEN_CODES.has(parsed.errcode)) return { kind: 'bad_token' };
      const errmsg = typeof parsed.errmsg === 'string' ? parsed.errmsg : '';
      return {
        kind: 'error',
        error: new ChatRefused(
          `DingTalk refused ${path} (errcode ${parsed.errcode}${errmsg ? `: ${errmsg}` : ''})`,
          String(parsed.errcode),
        ),
      };
    }
    return { kind: 'ok', body: parsed };
  }

  /** The app access token, cached until shortly before it expires; one refresh at a time. */
  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    this.refreshing ??= this.fetchToken().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchToken(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.apiUrl}/v1.0/oauth2/accessToken`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ appKey: this.options.clientId, appSecret: this.options.clientSecret }),
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = parseJson(await response.text()) as
        | { accessToken?: unknown; expireIn?: unknown; code?: unknown }
        | undefined;
      if (response.status === 429 && attempt < this.retry.retries) {
        await this.sleep(retryAfter(response).retryAfterMs ?? this.backoff(attempt));
        continue;
      }
      if (!response.ok || typeof body?.accessToken !== 'string') {
        const code = typeof body?.code === 'string' ? body.code : `HTTP ${response.status}`;
        const permanent = response.status >= 400 && response.status < 500;
        throw new DingTalkApiError(
          `DingTalk refused the app credentials (${code}); check the client id and client secret`,
          response.status,
          code,
          permanent,
        );
      }
      const expiresInMs = (typeof body.expireIn === 'number' ? body.expireIn : 7200) * 1000;
      this.token = { value: body.accessToken, until: this.now() + Math.max(0, expiresInMs - TOKEN_MARGIN_MS) };
      return body.accessToken;
    }
  }
}

/** The permissions a 403 says are missing (`accessdenieddetail.requiredScopes`), when DingTalk lists them. */
function requiredScopes(body: unknown): string | undefined {
  const detail = (body as { accessdenieddetail?: { requiredScopes?: unknown } } | undefined)?.accessdenieddetail;
  const scopes = Array.isArray(detail?.requiredScopes)
    ? detail.requiredScopes.filter((scope): scope is string => typeof scope === 'string')
    : [];
  return scopes.length > 0 ? scopes.join(', ') : undefined;
}

function retryAfter(response: Response): { retryAfterMs?: number } {
  const header = response.headers.get('retry-after');
  if (header === null || !/^\d+$/.test(header.trim())) return {};
  return { retryAfterMs: Number(header) * 1000 };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
