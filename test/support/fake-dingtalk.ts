import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { WebSocket } from 'ws';
import type { DingTalkAdapterOptions } from '../../adapters/dingtalk/dingtalk-adapter';
import { FakePlatformServer, listenOnLoopback, readBody } from './fake-server';

// A local stand-in for DingTalk on loopback, speaking its wire formats:
// - the Stream gateway: POST /v1.0/gateway/connections/open (client id + secret → endpoint + ticket), then a
//   WebSocket that sends SYSTEM/CALLBACK frames and takes acks by messageId;
// - the open API (api.dingtalk.com, JSON, token in `x-acs-dingtalk-access-token`): the access token, card
//   create-and-deliver and update, group and one-to-one robot messages;
// - the old API (oapi.dingtalk.com, `?access_token=`, `errcode` in the body): user get.
// It records every call so tests assert on what the adapter actually sent, and can refuse calls with DingTalk's
// rate-limit answers.

export const FAKE_CLIENT_ID = 'dingfakeclientid';
export const FAKE_CLIENT_SECRET = 'fake-client-secret-0123456789';
export const FAKE_CORP_ID = 'dingcorpfake';
export const FAKE_ROBOT_CODE = FAKE_CLIENT_ID;

export interface FakeDingTalkUser {
  userid: string;
  name: string;
  email?: string;
  orgEmail?: string;
  unionid?: string;
}

export interface FakeCall {
  method: string;
  /** Path without the query string. */
  path: string;
  body: any;
  /** The access token the call carried (header or query). */
  token: string | undefined;
  status: number;
}

export interface StreamAck {
  code: number;
  headers: Record<string, string>;
  message: string;
  /** Parsed `data`. */
  data: any;
}

export interface FakeCard {
  outTrackId: string;
  cardTemplateId: string;
  openSpaceId: string;
  callbackType: string;
  /** Public data now, after every update. */
  cardParamMap: Record<string, string>;
  history: Record<string, string>[];
  /** Each person's private data (only they see it), by userid: set by a click's ack or a PUT's privateData. */
  privateData: Record<string, Record<string, string>>;
  deliver: any;
}

export interface FakeRobotMessage {
  kind: 'group' | 'direct';
  /** openConversationId for group messages; the user ids for direct ones. */
  to: string | string[];
  msgKey: string;
  msgParam: any;
}

const ACCESS_TOKEN_PREFIX = 'fake-access-token-';

/** A DingTalk adapter's options for this fake: its app, its org, and every endpoint pointed here. */
export function adapterOptionsFor(
  fake: FakeDingTalk,
  overrides: Partial<DingTalkAdapterOptions> = {},
): DingTalkAdapterOptions {
  return {
    clientId: FAKE_CLIENT_ID,
    clientSecret: FAKE_CLIENT_SECRET,
    corpId: FAKE_CORP_ID,
    gatewayUrl: fake.url,
    apiUrl: fake.url,
    oapiUrl: fake.url,
    ...overrides,
  };
}

export class FakeDingTalk extends FakePlatformServer {
  readonly calls: FakeCall[] = [];
  readonly acks: StreamAck[] = [];
  readonly pongs: StreamAck[] = [];
  readonly cards = new Map<string, FakeCard>();
  readonly messages: FakeRobotMessage[] = [];
  readonly users = new Map<string, FakeDingTalkUser>();
  /** Every ticket handed out by connections/open, with the subscriptions asked for. */
  readonly tickets: { ticket: string; subscriptions: unknown }[] = [];
  /** Most WebSocket connections ever open at the same time. */
  maxOpenSockets = 0;
  /** Most connections/open calls ever in progress at the same time. */
  maxConcurrentOpens = 0;
  /** Delay connections/open answers by this much (ms), to expose parallel reconnects. */
  openDelayMs = 0;
  /** Refuse WebSocket upgrades (the handshake fails) while set. */
  refuseSockets = false;
  private opensInFlight = 0;
  private readonly rateLimits = new Map<string, { count: number; style: 'http429' | 'qps403' | 'oapi' }>();
  private readonly failures = new Map<string, { status: number; body: any }>();
  /** userid → how many more one-to-one messages to them flow control holds back. */
  private readonly flowControlled = new Map<string, number>();
  private readonly validTickets = new Set<string>();
  private tokenSeq = 0;
  private readonly expiredTokens = new Set<string>();

  private constructor(server: http.Server, url: string) {
    super(server, url, 'fake DingTalk');
  }

  static async start(options: { users?: FakeDingTalkUser[] } = {}): Promise<FakeDingTalk> {
    const { server, url } = await listenOnLoopback();
    const fake = new FakeDingTalk(server, url);
    for (const user of options.users ?? []) fake.users.set(user.userid, user);
    fake.serve((req, socket) => {
      const requested = new URL(req.url ?? '/', fake.url);
      const ticket = requested.searchParams.get('ticket') ?? '';
      if (requested.pathname === '/connect' && !fake.refuseSockets && fake.validTickets.delete(ticket)) return true;
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return false;
    });
    return fake;
  }

  // ── Test controls ───────────────────────────────────────────────────────────────────────────────────────

  /** The next `count` calls to `path` are refused as DingTalk refuses calls over its rate limit. */
  rateLimit(path: string, count = 1, style: 'http429' | 'qps403' | 'oapi' = 'http429'): void {
    this.rateLimits.set(path, { count, style });
  }

  /** The next call to `path` fails with this status and body. */
  failOnce(path: string, status: number, body: any = { code: 'ServiceUnavailable', message: 'try later' }): void {
    this.failures.set(path, { status, body });
  }

  /**
   * The next `count` one-to-one messages to `userId` are held back as DingTalk's flow control does: answered 200,
   * the person listed in `flowControlledStaffIdList`, and nothing delivered to them.
   */
  flowControl(userId: string, count = 1): void {
    this.flowControlled.set(userId, count);
  }

  /** Every access token handed out so far stops working, as when DingTalk's two hours are up. */
  expireTokens(): void {
    for (let i = 1; i <= this.tokenSeq; i++) this.expiredTokens.add(`${ACCESS_TOKEN_PREFIX}${i}`);
  }

  callsTo(path: string): FakeCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  /** Closes every open socket from the server's side, as a network drop would (no close frame). */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Sends DingTalk's SYSTEM `disconnect` notice: the gateway is about to close this connection. */
  sendDisconnectNotice(): void {
    this.sendFrame(this.system('disconnect', JSON.stringify({ reason: 'maintenance' })));
  }

  /** Sends a SYSTEM ping; resolves with the client's echo. */
  ping(): Promise<StreamAck> {
    const frame = this.system('ping', JSON.stringify({ opaque: randomUUID() }));
    const messageId = frame.headers.messageId;
    this.sendFrame(frame);
    return this.waitFor(
      () => this.pongs.find((p) => p.headers.messageId === messageId),
      `the echo of ping ${messageId}`,
    );
  }

  /** Sends a CALLBACK frame (`data` is JSON-encoded unless `rawData`); resolves with the client's ack once it comes. */
  sendCallback(
    topic: string,
    data: unknown,
    options: { messageId?: string; timeoutMs?: number; rawData?: boolean } = {},
  ): Promise<StreamAck> {
    const messageId = options.messageId ?? randomUUID();
    const { outTrackId, userId } = (data ?? {}) as { outTrackId?: unknown; userId?: unknown };
    if (topic === '/v1.0/card/instances/callback' && typeof outTrackId === 'string')
      this.callbackCards.set(messageId, { outTrackId, userId: typeof userId === 'string' ? userId : '' });
    const acked = this.waitFor(
      () =>
        this.acks.find(
          (ack) => ack.headers.messageId === messageId && !this.ackTaken.has(ack) && this.ackTaken.add(ack),
        ),
      `the ack of ${messageId}`,
      options.timeoutMs,
    );
    this.sendFrame({
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: {
        appId: 'fake-app',
        connectionId: 'fake-connection',
        contentType: 'application/json',
        messageId,
        time: String(Date.now()),
        topic,
      },
      data: options.rawData ? data : JSON.stringify(data),
    });
    return acked;
  }

  private readonly ackTaken = new Set<StreamAck>();
  /** Card callbacks sent, by messageId: their ack's card data is applied to that card (and clicker), as DingTalk does. */
  private readonly callbackCards = new Map<string, { outTrackId: string; userId: string }>();

  // ── Stream ──────────────────────────────────────────────────────────────────────────────────────────────

  private system(topic: string, data: string) {
    return {
      specVersion: '1.0',
      type: 'SYSTEM',
      headers: {
        appId: 'fake-app',
        connectionId: 'fake-connection',
        contentType: 'application/json',
        messageId: randomUUID(),
        time: String(Date.now()),
        topic,
      },
      data,
    };
  }

  private sendFrame(frame: unknown): void {
    const socket = this.openSocket('Stream');
    socket.send(JSON.stringify(frame));
  }

  protected onSocket(ws: WebSocket): void {
    this.maxOpenSockets = Math.max(this.maxOpenSockets, this.openSockets);
    this.record();
    ws.on('close', () => this.record());
    ws.on('message', (raw) => {
      let frame: StreamAck;
      try {
        const parsed = JSON.parse(raw.toString()) as {
          code: number;
          headers: Record<string, string>;
          message: string;
          data: string;
        };
        frame = { ...parsed, data: parsed.data === undefined ? undefined : tryParse(parsed.data) };
      } catch {
        return;
      }
      if (frame.headers?.topic === 'ping') this.pongs.push(frame);
      else {
        this.acks.push(frame);
        this.applyCardAck(frame);
      }
      this.record();
    });
  }

  /**
   * A card callback's ack may carry public card data (DingTalk shows it to everyone, as a PUT would) and the
   * clicker's private data (shown to them only).
   */
  private applyCardAck(frame: StreamAck): void {
    const clicked = this.callbackCards.get(frame.headers?.messageId ?? '');
    const card = clicked ? this.cards.get(clicked.outTrackId) : undefined;
    if (!clicked || !card) return;
    const update = frame.data?.response?.cardData?.cardParamMap;
    if (update && allStrings(update)) {
      card.cardParamMap = { ...card.cardParamMap, ...update };
      card.history.push({ ...card.cardParamMap });
    }
    const own = frame.data?.response?.userPrivateData?.cardParamMap;
    if (own && allStrings(own)) card.privateData[clicked.userId] = { ...card.privateData[clicked.userId], ...own };
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────

  protected async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    let body: any;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      body = undefined;
    }
    const token =
      (req.headers['x-acs-dingtalk-access-token'] as string | undefined) ??
      url.searchParams.get('access_token') ??
      undefined;
    const call: FakeCall = { method: req.method ?? 'GET', path, body, token, status: 0 };
    this.calls.push(call);

    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
      this.record();
    };

    const failure = this.failures.get(path);
    if (failure) {
      this.failures.delete(path);
      answer(failure.status, failure.body);
      return;
    }
    const limit = this.rateLimits.get(path);
    if (limit && limit.count > 0) {
      limit.count -= 1;
      if (limit.style === 'http429')
        answer(429, { code: 'Throttling', message: 'Request was denied due to flow control.' }, { 'Retry-After': '0' });
      else if (limit.style === 'qps403')
        answer(403, { code: 'Forbidden.AccessDenied.QpsLimitForApi', message: 'qps limit exceeded' });
      else answer(200, { errcode: 90018, errmsg: '当前请求已超过qps限制' });
      return;
    }
    if (body === undefined) {
      answer(400, { code: 'InvalidParameter', message: 'body is not JSON' });
      return;
    }

    if (path === '/v1.0/gateway/connections/open' && req.method === 'POST') {
      await this.openConnection(body, answer);
      return;
    }
    if (path === '/v1.0/oauth2/accessToken' && req.method === 'POST') {
      if (body.appKey !== FAKE_CLIENT_ID || body.appSecret !== FAKE_CLIENT_SECRET) {
        answer(400, { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret' });
        return;
      }
      answer(200, { accessToken: `${ACCESS_TOKEN_PREFIX}${++this.tokenSeq}`, expireIn: 7200 });
      return;
    }
    if (!token?.startsWith(ACCESS_TOKEN_PREFIX) || this.expiredTokens.has(token)) {
      if (path.startsWith('/topapi/')) answer(200, { errcode: 40014, errmsg: '不合法的access_token' });
      else answer(401, { code: 'InvalidAuthentication', message: '不合法的access_token' });
      return;
    }

    switch (`${req.method} ${path}`) {
      case 'POST /v1.0/card/instances/createAndDeliver':
        this.createAndDeliver(body, answer);
        return;
      case 'PUT /v1.0/card/instances':
        this.updateCard(body, answer);
        return;
      case 'POST /v1.0/robot/groupMessages/send':
        if (body.robotCode !== FAKE_ROBOT_CODE || typeof body.openConversationId !== 'string') {
          answer(400, { code: 'invalidParameter.robotCode', message: 'robot or conversation missing' });
          return;
        }
        this.messages.push({
          kind: 'group',
          to: body.openConversationId,
          msgKey: body.msgKey,
          msgParam: tryParse(body.msgParam),
        });
        answer(200, { processQueryKey: randomUUID() });
        return;
      case 'POST /v1.0/robot/oToMessages/batchSend': {
        if (body.robotCode !== FAKE_ROBOT_CODE || !Array.isArray(body.userIds) || body.userIds.length === 0) {
          answer(400, { code: 'invalidParameter.userIds', message: 'userIds missing' });
          return;
        }
        const heldBack = body.userIds.filter((id: string) => {
          const left = this.flowControlled.get(id) ?? 0;
          if (left > 0) this.flowControlled.set(id, left - 1);
          return left > 0;
        });
        const delivered = body.userIds.filter((id: string) => !heldBack.includes(id));
        if (delivered.length > 0)
          this.messages.push({ kind: 'direct', to: delivered, msgKey: body.msgKey, msgParam: tryParse(body.msgParam) });
        answer(200, {
          processQueryKey: randomUUID(),
          invalidStaffIdList: body.userIds.filter((id: string) => !this.users.has(id)),
          flowControlledStaffIdList: heldBack,
        });
        return;
      }
      case 'POST /topapi/v2/user/get': {
        const user = this.users.get(body.userid);
        if (!user) {
          answer(200, { errcode: 60121, errmsg: '找不到该用户', request_id: randomUUID() });
          return;
        }
        answer(200, {
          errcode: 0,
          errmsg: 'ok',
          result: {
            userid: user.userid,
            name: user.name,
            unionid: user.unionid ?? `union-${user.userid}`,
            email: user.email ?? '',
            org_email: user.orgEmail ?? '',
          },
          request_id: randomUUID(),
        });
        return;
      }
      default:
        answer(404, { code: 'NotFound', message: `no such API: ${req.method} ${path}` });
    }
  }

  private async openConnection(body: any, answer: (status: number, payload: unknown) => void): Promise<void> {
    this.opensInFlight += 1;
    this.maxConcurrentOpens = Math.max(this.maxConcurrentOpens, this.opensInFlight);
    try {
      if (this.openDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.openDelayMs));
      if (body.clientId !== FAKE_CLIENT_ID || body.clientSecret !== FAKE_CLIENT_SECRET) {
        answer(401, { code: 'Unauthorized', message: 'clientId or clientSecret is invalid' });
        return;
      }
      const ticket = randomUUID();
      this.validTickets.add(ticket);
      this.tickets.push({ ticket, subscriptions: body.subscriptions });
      answer(200, { endpoint: `${this.url.replace(/^http/, 'ws')}/connect`, ticket });
    } finally {
      this.opensInFlight -= 1;
    }
  }

  private createAndDeliver(body: any, answer: (status: number, payload: unknown) => void): void {
    const outTrackId = body.outTrackId;
    if (
      typeof outTrackId !== 'string' ||
      typeof body.cardTemplateId !== 'string' ||
      typeof body.openSpaceId !== 'string'
    ) {
      answer(400, { code: 'invalidParameter', message: 'outTrackId, cardTemplateId and openSpaceId are required' });
      return;
    }
    if (this.cards.has(outTrackId)) {
      answer(400, { code: 'param.outTrackIdDuplicated', message: 'outTrackId already exists' });
      return;
    }
    const cardParamMap = body.cardData?.cardParamMap ?? {};
    if (!allStrings(cardParamMap)) {
      answer(400, { code: 'invalidParameter.cardParamMap', message: 'cardParamMap values must be strings' });
      return;
    }
    this.cards.set(outTrackId, {
      outTrackId,
      cardTemplateId: body.cardTemplateId,
      openSpaceId: body.openSpaceId,
      callbackType: body.callbackType,
      cardParamMap: { ...cardParamMap },
      history: [{ ...cardParamMap }],
      privateData: {},
      deliver: body.imGroupOpenDeliverModel ?? body.imRobotOpenDeliverModel,
    });
    answer(200, {
      success: true,
      result: {
        outTrackId,
        deliverResults: [{ spaceType: 'IM', spaceId: body.openSpaceId, success: true, carrierId: randomUUID() }],
      },
    });
  }

  private updateCard(body: any, answer: (status: number, payload: unknown) => void): void {
    const card = this.cards.get(body.outTrackId);
    if (!card) {
      answer(400, { code: 'param.cardNotExist', message: 'card instance not found' });
      return;
    }
    const cardParamMap = body.cardData?.cardParamMap;
    const privateData: Record<string, { cardParamMap?: unknown }> = body.privateData ?? {};
    if (
      (cardParamMap !== undefined && !allStrings(cardParamMap)) ||
      !Object.values(privateData).every((data) => allStrings(data?.cardParamMap))
    ) {
      answer(400, { code: 'invalidParameter.cardParamMap', message: 'cardParamMap values must be strings' });
      return;
    }
    if (cardParamMap !== undefined) {
      card.cardParamMap = body.cardUpdateOptions?.updateCardDataByKey
        ? { ...card.cardParamMap, ...cardParamMap }
        : { ...cardParamMap };
      card.history.push({ ...card.cardParamMap });
    }
    for (const [userId, data] of Object.entries(privateData)) {
      const update = data.cardParamMap as Record<string, string>;
      card.privateData[userId] = body.cardUpdateOptions?.updatePrivateDataByKey
        ? { ...card.privateData[userId], ...update }
        : { ...update };
    }
    answer(200, { success: true, result: true });
  }
}

function allStrings(map: unknown): boolean {
  return typeof map === 'object' && map !== null && Object.values(map).every((value) => typeof value === 'string');
}

function tryParse(text: unknown): any {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
