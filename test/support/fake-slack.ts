import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { WebSocket } from 'ws';
import { FakePlatformServer, listenOnLoopback, readBody } from './fake-server';

// A local stand-in for Slack, speaking its wire format on loopback: the Web API (form-urlencoded or JSON bodies,
// JSON answers with `ok`), response_url endpoints, and a Socket Mode WebSocket. It records every call so tests
// assert on what the adapter actually sent.

export const FAKE_BOT_TOKEN = 'xoxb-fake-bot-token';
export const FAKE_APP_TOKEN = 'xapp-fake-app-token';
export const FAKE_TEAM_ID = 'T_FAKE';
export const FAKE_BOT_USER_ID = 'U_JITBOT';

export interface FakeUser {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
  email?: string;
}

export interface FakeChannel {
  id: string;
  name: string;
  isPrivate?: boolean;
  /** Whether the bot is in it; posting to a channel it is not in fails with not_in_channel. */
  isMember: boolean;
}

export interface FakeApiCall {
  method: string;
  args: Record<string, any>;
  /** The bearer token (or `token` field) the call carried. */
  token: string | undefined;
  /** HTTP status the fake answered with. */
  status: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: any[];
  /** Every version shown, oldest first (the post, then each chat.update). */
  history: { text?: string; blocks?: any[] }[];
}

export interface FakeResponse {
  id: string;
  body: Record<string, any>;
}

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, any>;
}

export interface FakeSlackOptions {
  users?: FakeUser[];
  channels?: FakeChannel[];
  /**
   * How long an idle keep-alive connection stays open (Node's default: 5 s). The benchmark raises it: a client
   * reusing a connection just as the server closes it sees "other side closed", which is not what it measures.
   */
  keepAliveTimeoutMs?: number;
}

/** Fields WebClient sends as JSON strings inside a form body. */
const JSON_FIELDS = ['blocks', 'attachments', 'metadata'];
const APP_TOKEN_METHODS = new Set(['apps.connections.open']);

export class FakeSlack extends FakePlatformServer {
  readonly calls: FakeApiCall[] = [];
  readonly responses: FakeResponse[] = [];
  readonly messages: FakeMessage[] = [];
  readonly socketAcks: SocketAck[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  private readonly rateLimits = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private seq = 100;

  private constructor(server: http.Server, url: string) {
    super(server, url, 'fake Slack');
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const { server, url } = await listenOnLoopback(options);
    const fake = new FakeSlack(server, url);
    for (const user of options.users ?? []) fake.users.set(user.id, user);
    for (const channel of options.channels ?? []) fake.channels.set(channel.id, channel);
    fake.serve((req) => req.url === '/socket');
    return fake;
  }

  /** Base URL for WebClient's slackApiUrl. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url as Slack would put in a payload; what is POSTed to it lands in `responses`. */
  responseUrl(id: string = randomUUID()): string {
    return `${this.url}/response/${id}`;
  }

  /** The next call to `method` is answered 429 with Retry-After. */
  rateLimitOnce(method: string, retryAfterSeconds: number): void {
    this.rateLimits.set(method, retryAfterSeconds);
  }

  /** The next call to `method` fails with this HTTP status (as a Slack outage would). */
  failOnce(method: string, status = 503): void {
    this.failures.set(method, status);
  }

  callsTo(method: string): FakeApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Successful calls only. */
  okCallsTo(method: string): FakeApiCall[] {
    return this.callsTo(method).filter((call) => call.status === 200);
  }

  responsesTo(id: string): FakeResponse[] {
    return this.responses.filter((response) => response.id === id);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Top-level messages (not thread replies) in a channel. */
  channelMessages(channel: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === undefined);
  }

  threadReplies(channel: string, ts: string): FakeMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === ts);
  }

  // ── Socket Mode ─────────────────────────────────────────────────────────────────────────────────────────

  /** Sends an envelope on the open socket; resolves with the client's acknowledgement. */
  sendEnvelope(
    type: 'slash_commands' | 'interactive' | 'events_api',
    payload: Record<string, unknown>,
    options: { envelopeId?: string; retryAttempt?: number } = {},
  ): Promise<SocketAck> {
    const socket = this.openSocket('Socket Mode');
    const envelopeId = options.envelopeId ?? randomUUID();
    const acked = this.waitFor(
      () => this.socketAcks.find((ack) => ack.envelope_id === envelopeId),
      `ack of envelope ${envelopeId}`,
    );
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        ...(options.retryAttempt !== undefined && { retry_attempt: options.retryAttempt, retry_reason: 'timeout' }),
      }),
    );
    return acked;
  }

  protected onSocket(ws: WebSocket): void {
    // Slack pings its clients; the client closes a socket that stays silent too long.
    const ping = setInterval(() => ws.ping(), 2000);
    ws.on('close', () => clearInterval(ping));
    ws.on('message', (data) => {
      try {
        const message = JSON.parse(data.toString()) as SocketAck;
        if (typeof message.envelope_id === 'string') this.record(() => this.socketAcks.push(message));
      } catch {
        // Not JSON: ignored, as Slack would.
      }
    });
    ws.send(
      JSON.stringify({ type: 'hello', num_connections: this.sockets.size, connection_info: { app_id: 'A_FAKE' } }),
    );
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────

  protected async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'POST' && path.startsWith('/response/')) {
      const body = JSON.parse(raw.toString('utf8')) as Record<string, any>;
      this.record(() => this.responses.push({ id: decodeURIComponent(path.slice('/response/'.length)), body }));
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    if (req.method === 'POST' && path.startsWith('/api/')) {
      this.onApiCall(path.slice('/api/'.length), req, raw, res);
      return;
    }
    res.writeHead(404).end();
  }

  private onApiCall(method: string, req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): void {
    const args = parseArgs(req.headers['content-type'] ?? '', raw.toString('utf8'));
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);

    const retryAfter = this.rateLimits.get(method);
    if (retryAfter !== undefined) {
      this.rateLimits.delete(method);
      this.record(() => this.calls.push({ method, args, token, status: 429 }));
      res.writeHead(429, { 'Retry-After': String(retryAfter), 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }

    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      this.record(() => this.calls.push({ method, args, token, status: failure }));
      res.writeHead(failure, { 'Content-Type': 'text/plain' }).end('service unavailable');
      return;
    }

    const expected = APP_TOKEN_METHODS.has(method) ? FAKE_APP_TOKEN : FAKE_BOT_TOKEN;
    const answer =
      token === expected ? this.answer(method, args) : { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    this.record(() => this.calls.push({ method, args, token, status: 200 }));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  }

  private answer(method: string, args: Record<string, any>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.test/',
          team: 'Fake',
          user: 'jitbot',
          team_id: FAKE_TEAM_ID,
          user_id: FAKE_BOT_USER_ID,
          bot_id: 'B_JITBOT',
        };
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace(/^http/, 'ws')}/socket` };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.postEphemeral':
        return args.channel && args.user
          ? { ok: true, message_ts: this.nextTs() }
          : { ok: false, error: 'invalid_arguments' };
      case 'conversations.open': {
        const user = String(args.users ?? '');
        return this.users.has(user)
          ? { ok: true, channel: { id: `D_${user}` } }
          : { ok: false, error: 'user_not_found' };
      }
      case 'conversations.info': {
        const channel = this.channels.get(String(args.channel));
        if (!channel) return { ok: false, error: 'channel_not_found' };
        return {
          ok: true,
          channel: {
            id: channel.id,
            name: channel.name,
            is_channel: true,
            is_private: channel.isPrivate ?? false,
            is_member: channel.isMember,
          },
        };
      }
      case 'users.info': {
        const user = this.users.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        const realName = user.realName ?? user.name;
        return {
          ok: true,
          user: {
            id: user.id,
            team_id: FAKE_TEAM_ID,
            name: user.name,
            real_name: realName,
            profile: {
              real_name: realName,
              display_name: user.displayName ?? '',
              ...(user.email && { email: user.email }),
            },
          },
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private postMessage(args: Record<string, any>): Record<string, unknown> {
    const channel = String(args.channel ?? '');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (this.channels.get(channel)?.isMember === false) return { ok: false, error: 'not_in_channel' };
    if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    if (threadTs !== undefined && !this.message(channel, threadTs)) return { ok: false, error: 'thread_not_found' };
    const ts = this.nextTs();
    const shown = { text: args.text, blocks: args.blocks };
    this.messages.push({ channel, ts, ...(threadTs !== undefined && { threadTs }), ...shown, history: [shown] });
    return { ok: true, channel, ts, message: { type: 'message', ts, ...shown } };
  }

  private updateMessage(args: Record<string, any>): Record<string, unknown> {
    const message = this.message(String(args.channel), String(args.ts));
    if (!message) return { ok: false, error: 'message_not_found' };
    const shown = { text: args.text, blocks: args.blocks };
    Object.assign(message, shown);
    message.history.push(shown);
    return { ok: true, channel: message.channel, ts: message.ts, text: args.text };
  }

  private nextTs(): string {
    this.seq += 1;
    return `1736931600.${String(this.seq).padStart(6, '0')}`;
  }
}

function parseArgs(contentType: string, text: string): Record<string, any> {
  if (text === '') return {};
  if (contentType.startsWith('application/json')) return JSON.parse(text) as Record<string, any>;
  const args: Record<string, any> = Object.fromEntries(new URLSearchParams(text));
  for (const field of JSON_FIELDS) {
    if (typeof args[field] === 'string') args[field] = JSON.parse(args[field]);
  }
  return args;
}
