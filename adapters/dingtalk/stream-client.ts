import WebSocket from 'ws';
import type { HttpLogger } from '../../src/http/server';

// DingTalk Stream mode: jitbot connects out to DingTalk, so no public URL is needed.
//   1. POST {gateway}/v1.0/gateway/connections/open with the client id and secret and the topics → endpoint + ticket;
//   2. open a WebSocket to `${endpoint}?ticket=${ticket}`;
//   3. answer SYSTEM pings, and ack every CALLBACK frame by its messageId once it has been handled. DingTalk
//      redelivers a frame that is not acked (after about a minute), so a frame whose handling failed is left
//      un-acked on purpose.
// When the socket drops, one reconnect is scheduled with jittered exponential backoff; there is never more than
// one connection or connection attempt. (dingtalk-stream 2.1.5 reconnects every second without such a guard.)

export const TOPIC_ROBOT_MESSAGE = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD_CALLBACK = '/v1.0/card/instances/callback';
export const DEFAULT_GATEWAY_URL = 'https://api.dingtalk.com';
const CONNECTIONS_OPEN_PATH = '/v1.0/gateway/connections/open';
const REQUEST_TIMEOUT_MS = 10_000;
const DRAIN_GRACE_MS = 5_000;

/** A frame from the gateway, as DingTalk sends it (DWClientDownStream). */
export interface DownstreamFrame {
  specVersion?: string;
  type: 'SYSTEM' | 'EVENT' | 'CALLBACK' | string;
  headers: { messageId: string; topic: string; [name: string]: string };
  data: string;
}

export interface StreamCallback {
  topic: string;
  messageId: string;
  /** The frame's `data`: a JSON string. */
  data: string;
}

/** Handles one CALLBACK; what it returns is sent back in the ack (`{response: value}`). Throwing leaves it un-acked. */
export type CallbackHandler = (callback: StreamCallback) => Promise<unknown>;

export interface StreamBackoff {
  /** Ceiling of the first reconnect delay; each further attempt doubles it. */
  initialMs: number;
  maxMs: number;
  /** A connection that stayed up this long resets the backoff. */
  stableMs: number;
}

export const DEFAULT_STREAM_BACKOFF: StreamBackoff = { initialMs: 1_000, maxMs: 60_000, stableMs: 60_000 };

export interface StreamClientOptions {
  clientId: string;
  clientSecret: string;
  /** Base of connections/open, default https://api.dingtalk.com (tests use a local fake). */
  gatewayUrl?: string;
  /** CALLBACK topics to subscribe to. */
  topics: string[];
  onCallback: CallbackHandler;
  logger: HttpLogger;
  backoff?: Partial<StreamBackoff>;
  /** A silent socket is closed after this long without a pong (default 20 s: pinged every 10 s). */
  heartbeatMs?: number;
  /** Math.random by default; injected in tests. */
  random?: () => number;
  now?: () => number;
  /** Told about every reconnect that is scheduled (tests, metrics). */
  onReconnectScheduled?: (delayMs: number, attempt: number) => void;
}

/** connections/open refused the client id or secret: retrying will not help until the configuration changes. */
export class StreamCredentialsRefused extends Error {}

export class DingTalkStreamClient {
  private readonly backoff: StreamBackoff;
  private readonly random: () => number;
  private readonly now: () => number;
  private socket: WebSocket | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private attempt = 0;
  private openedAt = 0;
  private stopped = true;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: StreamClientOptions) {
    if (!options.clientId || !options.clientSecret)
      throw new Error("DingTalk Stream mode needs the app's client id and client secret");
    this.backoff = { ...DEFAULT_STREAM_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** True while a socket is open. */
  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Connects. Refused credentials fail start-up; any other failure (DingTalk unreachable) is logged and retried in
   * the background with backoff.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      await this.connect();
    } catch (error) {
      if (error instanceof StreamCredentialsRefused) {
        this.stopped = true;
        throw error;
      }
      this.options.logger.warn(
        { err: describe(error) },
        'dingtalk stream: could not connect; retrying in the background',
      );
      this.scheduleReconnect();
    }
  }

  /** Lets handlers in progress finish and ack, then closes the connection. No reconnect follows. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.connecting?.catch(() => undefined);
    await this.idle();
    const socket = this.socket;
    this.detach();
    if (socket) await closeSocket(socket);
  }

  /** Resolves when every CALLBACK received so far has been handled (and acked, if it could be). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** One connection attempt at a time: a second caller shares the attempt in progress. */
  private connect(): Promise<void> {
    this.connecting ??= this.openAndConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openAndConnect(): Promise<void> {
    const { endpoint, ticket } = await this.openConnection();
    if (this.stopped) return;
    const url = new URL(endpoint);
    url.searchParams.set('ticket', ticket);
    const socket = new WebSocket(url, { handshakeTimeout: REQUEST_TIMEOUT_MS });
    // Listening before 'open' resolves: a frame can arrive in the same packet as the handshake's answer.
    socket.on('message', (raw) => this.onFrame(socket, raw.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`the Stream gateway refused the WebSocket (HTTP ${res.statusCode})`)),
      );
    }).catch((error: unknown) => {
      socket.terminate();
      throw error;
    });
    socket.removeAllListeners('error');
    socket.removeAllListeners('unexpected-response');
    if (this.stopped) {
      socket.terminate();
      return;
    }
    this.attach(socket);
    this.options.logger.info({ attempt: this.attempt }, 'dingtalk stream connected');
  }

  private async openConnection(): Promise<{ endpoint: string; ticket: string }> {
    const base = (this.options.gatewayUrl ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
    const response = await fetch(base + CONNECTIONS_OPEN_PATH, {
      method: 'POST',
      // Without Accept: application/json the gateway answers in XML.
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({
        clientId: this.options.clientId,
        clientSecret: this.options.clientSecret,
        ua: 'jitbot',
        subscriptions: this.options.topics.map((topic) => ({ type: 'CALLBACK', topic })),
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => undefined)) as
      | { endpoint?: unknown; ticket?: unknown; code?: unknown }
      | undefined;
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      const code = typeof body?.code === 'string' ? body.code : `HTTP ${response.status}`;
      throw new StreamCredentialsRefused(
        `DingTalk refused the Stream connection (${code}); check the app's client id and client secret`,
      );
    }
    if (!response.ok) throw new Error(`connections/open answered HTTP ${response.status}`);
    if (typeof body?.endpoint !== 'string' || typeof body.ticket !== 'string' || !/^wss?:\/\//.test(body.endpoint)) {
      throw new Error('connections/open answered without a WebSocket endpoint and ticket');
    }
    return { endpoint: body.endpoint, ticket: body.ticket };
  }

  private attach(socket: WebSocket): void {
    this.socket = socket;
    this.openedAt = this.now();
    let alive = true;
    socket.on('pong', () => (alive = true));
    socket.on('message', () => (alive = true));
    socket.on('error', (error) => this.options.logger.warn({ err: error.message }, 'dingtalk stream socket error'));
    socket.on('close', () => this.onClosed(socket));
    const heartbeatMs = this.options.heartbeatMs ?? 20_000;
    this.heartbeat = setInterval(() => {
      if (!alive) {
        this.options.logger.warn({}, 'dingtalk stream: no pong from the gateway; closing the connection');
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, heartbeatMs / 2);
  }

  private detach(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.socket = undefined;
  }

  private onClosed(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.detach();
    if (this.stopped) return;
    if (this.now() - this.openedAt >= this.backoff.stableMs) this.attempt = 0;
    this.options.logger.warn({}, 'dingtalk stream connection closed; reconnecting');
    this.scheduleReconnect();
  }

  /**
   * Equal jitter: attempt n waits between half and all of min(max, initial·2ⁿ), so every wait is at least as long
   * as the one before it, and clients that dropped together do not come back together.
   */
  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer || this.connecting || this.socket) return;
    const attempt = this.attempt++;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(attempt, 30));
    const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    this.options.onReconnectScheduled?.(delay, attempt);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch((error: unknown) => {
        this.options.logger.warn({ err: describe(error), attempt }, 'dingtalk stream reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
  }

  private onFrame(socket: WebSocket, raw: string): void {
    let frame: DownstreamFrame;
    try {
      frame = JSON.parse(raw) as DownstreamFrame;
      if (typeof frame?.headers?.messageId !== 'string' || typeof frame.headers.topic !== 'string')
        throw new Error('no headers');
    } catch {
      this.options.logger.warn({ bytes: raw.length }, 'dingtalk stream: unreadable frame ignored');
      return;
    }
    switch (frame.type) {
      case 'SYSTEM':
        this.onSystem(socket, frame);
        return;
      case 'CALLBACK':
        this.track(this.handleCallback(socket, frame));
        return;
      case 'EVENT':
        // jitbot subscribes to no events; one that arrives anyway is acked so it is not redelivered.
        send(socket, ack(frame.headers.messageId, { status: 'SUCCESS', message: 'OK' }));
        return;
      default:
        this.options.logger.debug({ type: frame.type }, 'dingtalk stream: unknown frame type ignored');
    }
  }

  private onSystem(socket: WebSocket, frame: DownstreamFrame): void {
    switch (frame.headers.topic) {
      case 'ping':
        send(socket, { code: 200, headers: frame.headers, message: 'OK', data: frame.data });
        return;
      case 'disconnect':
        // The gateway will close this connection shortly: finish what is in progress, then reconnect.
        this.options.logger.info({}, 'dingtalk stream: the gateway asked to reconnect');
        void this.drainAndClose(socket);
        return;
      default:
        this.options.logger.debug({ topic: frame.headers.topic }, 'dingtalk stream system frame');
    }
  }

  private async drainAndClose(socket: WebSocket): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_GRACE_MS)))]);
    clearTimeout(timer);
    if (this.socket === socket) socket.close(1000);
  }

  private async handleCallback(socket: WebSocket, frame: DownstreamFrame): Promise<void> {
    const { messageId, topic } = frame.headers;
    let result: unknown;
    try {
      result = await this.options.onCallback({
        topic,
        messageId,
        data: typeof frame.data === 'string' ? frame.data : '',
      });
    } catch (error) {
      this.options.logger.error(
        { err: describe(error), topic, messageId },
        'dingtalk stream callback failed; left un-acked for redelivery',
      );
      return;
    }
    // Acks travel on the connection the frame came in on; if it has gone, DingTalk redelivers the frame.
    if (socket.readyState !== WebSocket.OPEN) {
      this.options.logger.info(
        { topic, messageId },
        'dingtalk stream: connection closed before the ack; DingTalk will redeliver',
      );
      return;
    }
    send(socket, ack(messageId, { response: result ?? null }));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

function ack(messageId: string, value: unknown) {
  return {
    code: 200,
    headers: { contentType: 'application/json', messageId },
    message: 'OK',
    data: JSON.stringify(value),
  };
}

function send(socket: WebSocket, frame: unknown): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve();
    }, 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close(1000);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
