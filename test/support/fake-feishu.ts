import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import protobuf from 'protobufjs';
import type { WebSocket } from 'ws';
import { FakePlatformServer, listenOnLoopback, readBody } from './fake-server';

// A local stand-in for the Feishu/Lark Open Platform, speaking its wire format on loopback, with the official
// SDK's Client and WSClient (pointed here through `domain`) as the reference:
//   POST /open-apis/auth/v3/tenant_access_token/internal  (answers at the top level, not in `data`)
//   GET  /open-apis/bot/v3/info
//   POST /open-apis/im/v1/messages?receive_id_type=…       (`uuid` de-duplicates a retried post)
//   POST /open-apis/im/v1/messages/:id/reply                (`reply_in_thread`)
//   PATCH /open-apis/im/v1/messages/:id                     (cards that declared update_multi only)
//   GET  /open-apis/contact/v3/users/:id?user_id_type=…
//   POST /callback/ws/endpoint, then a WebSocket speaking pbbp2 protobuf frames (the long connection)
// 429 with code 99991400 and x-ogw-ratelimit-reset can be injected. Every call is recorded.

export const FAKE_APP_ID = 'cli_a1b2c3d4e5f60718';
export const FAKE_APP_SECRET = 'fake-app-secret';
export const FAKE_TENANT_TOKEN = 't-fake-tenant-token';
export const FAKE_BOT_OPEN_ID = 'ou_jitbot';
/** Feishu's limit on a post's `uuid` (im/v1/messages create and reply). */
const MAX_UUID_LENGTH = 50;

export interface FakeFeishuUser {
  openId: string;
  unionId: string;
  userId?: string;
  name: string;
  email?: string;
  enterpriseEmail?: string;
}

export interface FakeFeishuCall {
  method: string;
  /** Path without the query string, e.g. /open-apis/im/v1/messages. */
  path: string;
  query: Record<string, string>;
  body: any;
  token: string | undefined;
  status: number;
}

export interface FakeFeishuMessage {
  messageId: string;
  chatId: string;
  msgType: string;
  /** The parsed `content` (the wire carries it as a JSON string). */
  content: any;
  /** Set on replies: the message replied to, and the thread when replied in a thread. */
  parentId?: string;
  rootId?: string;
  threadId?: string;
  uuid?: string;
  /** Every content shown, oldest first (the post, then each PATCH). */
  history: any[];
}

export interface FrameAck {
  messageId: string;
  headers: Record<string, string>;
  /** The client's answer: {code, data?} with data = base64(JSON(handler result)), decoded here. */
  code: number;
  data?: any;
}

interface Injected {
  status: number;
  code: number;
  msg: string;
  headers?: Record<string, string>;
}

const FRAME_TYPES = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: {
            key: { type: 'string', id: 1, rule: 'required' },
            value: { type: 'string', id: 2, rule: 'required' },
          },
        },
        Frame: {
          fields: {
            SeqID: { type: 'uint64', id: 1, rule: 'required' },
            LogID: { type: 'uint64', id: 2, rule: 'required' },
            service: { type: 'int32', id: 3, rule: 'required' },
            method: { type: 'int32', id: 4, rule: 'required' },
            headers: { type: 'Header', id: 5, rule: 'repeated' },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});
const Frame = FRAME_TYPES.lookupType('pbbp2.Frame');
const FRAME_METHOD = { control: 0, data: 1 } as const;
const SERVICE_ID = 7;

export class FakeFeishu extends FakePlatformServer {
  readonly calls: FakeFeishuCall[] = [];
  readonly messages: FakeFeishuMessage[] = [];
  readonly frameAcks: FrameAck[] = [];
  readonly users = new Map<string, FakeFeishuUser>();
  /** Chats the bot is in; posting elsewhere fails with 230002. */
  readonly chats = new Set<string>();
  private readonly injected = new Map<string, Injected[]>();
  /** Routes whose calls wait for this promise before they are answered (a slow Feishu). */
  private readonly held = new Map<string, Promise<void>>();
  private readonly arrivals: string[] = [];
  private seq = 100;

  private constructor(server: http.Server, url: string) {
    super(server, url, 'fake Feishu');
  }

  static async start(options: { users?: FakeFeishuUser[]; chats?: string[] } = {}): Promise<FakeFeishu> {
    const { server, url } = await listenOnLoopback();
    const fake = new FakeFeishu(server, url);
    for (const user of options.users ?? []) fake.users.set(user.unionId, user);
    for (const chat of options.chats ?? []) fake.chats.add(chat);
    fake.serve((req) => (req.url ?? '').startsWith('/ws'));
    return fake;
  }

  /**
   * The next call to `method path` (e.g. "POST /open-apis/im/v1/messages") is answered 429 / 99991400 (or, with
   * `status`, that status and the same body, as Feishu's gateway sometimes does with 200).
   */
  rateLimitOnce(route: string, resetSeconds: number, status = 429): void {
    this.inject(route, {
      status,
      code: 99991400,
      msg: 'request trigger frequency limit',
      headers: { 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': String(resetSeconds) },
    });
  }

  /** The next call to `route` fails with this HTTP status and Feishu error code. */
  failOnce(route: string, status: number, code: number, msg = 'injected failure'): void {
    this.inject(route, { status, code, msg });
  }

  /**
   * Calls to `route` (e.g. "GET /open-apis/bot/v3/info") are not answered until the returned function is called
   * (then as usual, or as injected): a slow Feishu.
   */
  hold(route: string): () => void {
    let release!: () => void;
    this.held.set(route, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.held.delete(route);
      release();
    };
  }

  /** Calls to `method path` received so far, answered or still held. */
  received(method: string, path: string): number {
    return this.arrivals.filter((arrival) => arrival === `${method} ${path}`).length;
  }

  /** A message a person sent in a chat (as Feishu stores it), so the bot can reply to it; returns its id. */
  userMessage(chatId: string, text: string): string {
    return this.store({ chatId, msgType: 'text', content: { text } }).messageId;
  }

  /**
   * What Feishu does with a card callback's answer: a `card` in it replaces the clicked card, for everyone when the
   * card is shared (update_multi). Applied to frames answered on the long connection automatically; HTTP tests
   * (which play Feishu's part in posting the callback) call it with the response.
   */
  applyCallbackAnswer(messageId: string | undefined, answer: any): void {
    const message = messageId !== undefined ? this.message(messageId) : undefined;
    const card = answer?.card?.type === 'raw' ? answer.card.data : undefined;
    if (!message || !card || message.content?.config?.update_multi !== true || card.config?.update_multi !== true)
      return;
    this.record(() => {
      message.content = card;
      message.history.push(card);
    });
  }

  callsTo(method: string, path: string | RegExp): FakeFeishuCall[] {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)),
    );
  }

  message(messageId: string): FakeFeishuMessage | undefined {
    return this.messages.find((m) => m.messageId === messageId);
  }

  chatMessages(chatId: string): FakeFeishuMessage[] {
    return this.messages.filter((m) => m.chatId === chatId && m.parentId === undefined);
  }

  replies(messageId: string): FakeFeishuMessage[] {
    return this.messages.filter((m) => m.rootId === messageId);
  }

  // ── Long connection ─────────────────────────────────────────────────────────────────────────────────────

  /** Pushes an event envelope (an event or a card callback) as an event frame; resolves with the client's ack. */
  pushEvent(envelope: any, messageId: string = randomUUID()): Promise<FrameAck> {
    const socket = this.openSocket('long-connection');
    const acked = this.waitFor(
      () => this.frameAcks.find((ack) => ack.messageId === messageId),
      `ack of frame ${messageId}`,
    );
    const frame = Frame.create({
      SeqID: 0,
      LogID: 0,
      service: SERVICE_ID,
      method: FRAME_METHOD.data,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: messageId },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: randomUUID() },
      ],
      payload: Buffer.from(JSON.stringify(envelope)),
    });
    socket.send(Frame.encode(frame).finish());
    return acked.then((ack) => {
      this.applyCallbackAnswer(envelope?.event?.context?.open_message_id, ack.data);
      return ack;
    });
  }

  protected onSocket(ws: WebSocket): void {
    ws.on('message', (data: Buffer) => {
      const frame = Frame.toObject(Frame.decode(data), { longs: Number, bytes: Buffer }) as {
        method: number;
        headers?: { key: string; value: string }[];
        payload?: Buffer;
      };
      const headers = Object.fromEntries((frame.headers ?? []).map((h) => [h.key, h.value]));
      if (frame.method === FRAME_METHOD.control) {
        if (headers.type === 'ping') {
          const pong = Frame.create({
            SeqID: 0,
            LogID: 0,
            service: SERVICE_ID,
            method: FRAME_METHOD.control,
            headers: [{ key: 'type', value: 'pong' }],
          });
          ws.send(Frame.encode(pong).finish());
        }
        return;
      }
      const answer = JSON.parse((frame.payload ?? Buffer.alloc(0)).toString('utf8') || '{}') as {
        code: number;
        data?: string;
      };
      const ack: FrameAck = {
        messageId: headers.message_id ?? '',
        headers,
        code: answer.code,
        ...(answer.data !== undefined && { data: JSON.parse(Buffer.from(answer.data, 'base64').toString('utf8')) }),
      };
      this.record(() => this.frameAcks.push(ack));
    });
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────

  private inject(route: string, failure: Injected): void {
    this.injected.set(route, [...(this.injected.get(route) ?? []), failure]);
  }

  protected async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      this.record(() => this.calls.push({ method, path, query, body, token, status }));
      res
        .writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
        .end(JSON.stringify(json));
    };

    const route = `${method} ${path.replace(/\/(om_|on_|ou_)[\w-]+/g, '/:id')}`;
    this.record(() => this.arrivals.push(`${method} ${path}`));
    await (this.held.get(route) ?? this.held.get(`${method} ${path}`));
    const failure = this.injected.get(route)?.shift() ?? this.injected.get(`${method} ${path}`)?.shift();
    if (failure) {
      answer(
        failure.status,
        { code: failure.code, msg: failure.msg, error: { log_id: randomUUID() } },
        failure.headers,
      );
      return;
    }

    if (method === 'POST' && path === '/open-apis/auth/v3/tenant_access_token/internal') {
      const ok = body?.app_id === FAKE_APP_ID && body?.app_secret === FAKE_APP_SECRET;
      answer(
        ok ? 200 : 400,
        ok
          ? { code: 0, msg: 'ok', tenant_access_token: FAKE_TENANT_TOKEN, expire: 7200 }
          : { code: 10014, msg: 'app secret invalid' },
      );
      return;
    }
    if (method === 'POST' && path === '/callback/ws/endpoint') {
      const ok = body?.AppID === FAKE_APP_ID && body?.AppSecret === FAKE_APP_SECRET;
      answer(
        200,
        ok
          ? {
              code: 0,
              msg: 'ok',
              data: {
                URL: `${this.url.replace(/^http/, 'ws')}/ws?device_id=fake-device&service_id=${SERVICE_ID}`,
                ClientConfig: { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 },
              },
            }
          : { code: 514, msg: 'auth failed', data: { URL: '', ClientConfig: {} } },
      );
      return;
    }
    if (token !== FAKE_TENANT_TOKEN) {
      answer(400, {
        code: 99991663,
        msg: 'Invalid access token for authorization. Please make a request with token attached.',
      });
      return;
    }

    let match: RegExpExecArray | null;
    if (method === 'GET' && path === '/open-apis/bot/v3/info') {
      answer(200, {
        code: 0,
        msg: 'ok',
        bot: { activate_status: 2, app_name: 'jitbot', avatar_url: '', ip_white_list: [], open_id: FAKE_BOT_OPEN_ID },
      });
    } else if (method === 'POST' && path === '/open-apis/im/v1/messages') {
      this.create(query.receive_id_type, body, answer);
    } else if (method === 'POST' && (match = /^\/open-apis\/im\/v1\/messages\/([\w-]+)\/reply$/.exec(path))) {
      this.reply(match[1]!, body, answer);
    } else if (method === 'PATCH' && (match = /^\/open-apis\/im\/v1\/messages\/([\w-]+)$/.exec(path))) {
      this.patch(match[1]!, body, answer);
    } else if (method === 'GET' && (match = /^\/open-apis\/contact\/v3\/users\/([\w-]+)$/.exec(path))) {
      this.user(match[1]!, query.user_id_type ?? 'open_id', answer);
    } else {
      answer(404, { code: 404, msg: 'not found' });
    }
  }

  private create(receiveIdType: string | undefined, body: any, answer: (status: number, json: unknown) => void): void {
    const receiveId = String(body?.receive_id ?? '');
    let chatId: string | undefined;
    if (receiveIdType === 'chat_id') chatId = this.chats.has(receiveId) ? receiveId : undefined;
    else if (receiveIdType === 'union_id' || receiveIdType === 'open_id' || receiveIdType === 'email') {
      const user = [...this.users.values()].find(
        (u) =>
          (receiveIdType === 'union_id' ? u.unionId : receiveIdType === 'open_id' ? u.openId : u.email) === receiveId,
      );
      chatId = user ? `oc_dm_${user.unionId}` : undefined;
    } else {
      answer(400, { code: 99992402, msg: 'field validation failed: receive_id_type' });
      return;
    }
    if (!chatId) {
      answer(400, { code: 230002, msg: 'Bot/User can NOT be out of the chat.' });
      return;
    }
    this.postOnce(body, answer, () =>
      this.store({
        chatId,
        msgType: body.msg_type,
        content: JSON.parse(body.content),
        ...(body.uuid && { uuid: body.uuid }),
      }),
    );
  }

  private reply(parentId: string, body: any, answer: (status: number, json: unknown) => void): void {
    const parent = this.message(parentId);
    if (!parent) {
      answer(400, { code: 230011, msg: 'The message was withdrawn or does not exist.' });
      return;
    }
    this.postOnce(body, answer, () => {
      const root = parent.rootId ?? parent.messageId;
      const threadId =
        body.reply_in_thread === true ? (this.message(root)?.threadId ?? `omt_${root.slice(3)}`) : parent.threadId;
      if (threadId && body.reply_in_thread === true) this.message(root)!.threadId = threadId;
      return this.store({
        chatId: parent.chatId,
        msgType: body.msg_type,
        content: JSON.parse(body.content),
        parentId,
        rootId: root,
        ...(threadId && { threadId }),
        ...(body.uuid && { uuid: body.uuid }),
      });
    });
  }

  /**
   * A post or reply with valid content is stored once: a retry with the same `uuid` gets the first message back
   * (Feishu keeps a uuid for an hour; the fake for its lifetime).
   */
  private postOnce(body: any, answer: (status: number, json: unknown) => void, store: () => FakeFeishuMessage): void {
    const invalid = this.invalidContent(body);
    if (invalid) {
      answer(400, { code: 230001, msg: invalid });
      return;
    }
    if (body.uuid !== undefined && (typeof body.uuid !== 'string' || body.uuid.length > MAX_UUID_LENGTH)) {
      answer(400, { code: 99992402, msg: `field validation failed: uuid: at most ${MAX_UUID_LENGTH} characters` });
      return;
    }
    const previous = this.byUuid(body.uuid);
    if (previous) {
      answer(200, { code: 0, msg: 'success', data: this.messageData(previous) });
      return;
    }
    answer(200, { code: 0, msg: 'success', data: this.messageData(store()) });
  }

  private patch(messageId: string, body: any, answer: (status: number, json: unknown) => void): void {
    const message = this.message(messageId);
    if (!message) {
      answer(400, { code: 230011, msg: 'The message was withdrawn or does not exist.' });
      return;
    }
    if (message.msgType !== 'interactive') {
      answer(400, { code: 230001, msg: 'only cards can be updated' });
      return;
    }
    const content = typeof body?.content === 'string' ? safeParse(body.content) : undefined;
    if (!content || message.content?.config?.update_multi !== true || content.config?.update_multi !== true) {
      answer(400, {
        code: 230099,
        msg: 'Failed to update the card: it must declare config.update_multi = true (before and after).',
      });
      return;
    }
    this.record(() => {
      message.content = content;
      message.history.push(content);
    });
    answer(200, { code: 0, msg: 'success', data: {} });
  }

  private user(id: string, idType: string, answer: (status: number, json: unknown) => void): void {
    const user = [...this.users.values()].find(
      (u) => (idType === 'union_id' ? u.unionId : idType === 'user_id' ? u.userId : u.openId) === id,
    );
    if (!user) {
      answer(400, { code: 41050, msg: 'no user authority error' });
      return;
    }
    answer(200, {
      code: 0,
      msg: 'success',
      data: {
        user: {
          union_id: user.unionId,
          open_id: user.openId,
          ...(user.userId && { user_id: user.userId }),
          name: user.name,
          en_name: user.name,
          ...(user.email && { email: user.email }),
          ...(user.enterpriseEmail && { enterprise_email: user.enterpriseEmail }),
        },
      },
    });
  }

  /** Feishu's own checks on what a message says: the content is a JSON string fitting the msg_type. */
  private invalidContent(body: any): string | undefined {
    if (typeof body?.content !== 'string') return 'content must be a JSON string';
    const content = safeParse(body.content);
    if (!content) return 'content is not valid JSON';
    if (body.msg_type === 'interactive')
      return content.schema === '2.0' && content.body ? undefined : 'not a JSON 2.0 card';
    if (body.msg_type === 'text') return typeof content.text === 'string' ? undefined : 'text content needs `text`';
    if (body.msg_type === 'post')
      return Object.values(content).some((lang: any) => Array.isArray(lang?.content))
        ? undefined
        : 'post content needs a language with `content`';
    return `unsupported msg_type ${String(body.msg_type)}`;
  }

  private byUuid(uuid: unknown): FakeFeishuMessage | undefined {
    return typeof uuid === 'string' && uuid !== '' ? this.messages.find((m) => m.uuid === uuid) : undefined;
  }

  private store(fields: Omit<FakeFeishuMessage, 'messageId' | 'history'>): FakeFeishuMessage {
    this.seq += 1;
    const message: FakeFeishuMessage = { messageId: `om_fake${this.seq}`, ...fields, history: [fields.content] };
    this.record(() => this.messages.push(message));
    return message;
  }

  private messageData(message: FakeFeishuMessage) {
    return {
      message_id: message.messageId,
      ...(message.rootId && { root_id: message.rootId }),
      ...(message.parentId && { parent_id: message.parentId }),
      ...(message.threadId && { thread_id: message.threadId }),
      msg_type: message.msgType,
      chat_id: message.chatId,
      create_time: String(Date.now()),
      sender: { id: 'cli_fake', id_type: 'app_id', sender_type: 'app' },
      body: { content: JSON.stringify(message.content) },
    };
  }
}

function safeParse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
