import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

// What the fakes of platforms with an HTTP API and a WebSocket (Slack, Feishu, DingTalk) share: a server on a free
// loopback port, the WebSockets clients open on it, and waiting for something the fake records.

export interface LoopbackOptions {
  /** How long an idle keep-alive connection stays open (Node's default: 5 s). */
  keepAliveTimeoutMs?: number;
}

/** An HTTP server listening on a free loopback port, and its base URL. */
export async function listenOnLoopback(options: LoopbackOptions = {}): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer();
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export abstract class FakePlatformServer {
  /** WebSockets clients have opened (open or closing). */
  protected readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly changes = new EventEmitter();

  protected constructor(
    protected readonly server: http.Server,
    readonly url: string,
    /** The platform's name in error messages ("fake Slack: …"). */
    private readonly name: string,
  ) {
    this.changes.setMaxListeners(0);
  }

  /**
   * Hands requests to `onRequest` and WebSocket upgrades that `acceptSocket` lets through to `onSocket`; a refused
   * upgrade is destroyed (after whatever `acceptSocket` wrote to it).
   */
  protected serve(acceptSocket: (req: http.IncomingMessage, socket: Socket) => boolean): void {
    this.server.on('request', (req, res) => void this.onRequest(req, res));
    this.server.on('upgrade', (req, socket: Socket, head) => {
      if (!acceptSocket(req, socket)) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        this.onSocket(ws);
      });
    });
  }

  protected abstract onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  protected abstract onSocket(ws: WebSocket): void;

  get openSockets(): number {
    return [...this.sockets].filter((ws) => ws.readyState === ws.OPEN).length;
  }

  /** An open client socket; throws, naming `what` the client is, when none is connected. */
  protected openSocket(what: string): WebSocket {
    const socket = [...this.sockets].find((ws) => ws.readyState === ws.OPEN);
    if (!socket) throw new Error(`${this.name}: no ${what} client is connected`);
    return socket;
  }

  /** Makes a change (if given) and wakes every `waitFor`. */
  protected record(change?: () => void): void {
    change?.();
    this.changes.emit('change');
  }

  /**
   * Resolves with `find()`'s first defined (and not false) result. Re-checks after everything the fake records
   * and every few milliseconds (for conditions on the test's side, such as a handler having been called).
   */
  waitFor<T>(find: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined || found === false) return;
        cleanup();
        resolve(found);
      };
      const poll = setInterval(check, 5);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: timed out waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearInterval(poll);
        clearTimeout(timer);
        this.changes.off('change', check);
      };
      this.changes.on('change', check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
