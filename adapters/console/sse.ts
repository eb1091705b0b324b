import type { Response } from 'express';

// Server-Sent Events for the console page: a cheap "changed" ping carrying a sequence number; the page refetches.

const HEARTBEAT_MS = 25_000;

export class ChangeStream {
  private readonly clients = new Set<Response>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly maxClients = 50) {}

  /** Holds the response open as an event stream; refuses with 503 beyond `maxClients`. */
  attach(res: Response, currentSeq: number): void {
    if (this.clients.size >= this.maxClients) {
      res.status(503).json({ error: 'too many open console event streams' });
      return;
    }
    res.status(200);
    res.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    this.send(res, currentSeq);
    this.startHeartbeat();
    res.on('close', () => this.detach(res));
  }

  broadcast(seq: number): void {
    for (const res of this.clients) this.send(res, seq);
  }

  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stopHeartbeat();
  }

  private send(res: Response, seq: number): void {
    res.write(`event: changed\ndata: ${JSON.stringify({ seq })}\n\n`);
  }

  private detach(res: Response): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    // A comment line keeps idle connections from being cut by proxies; unref so it never holds the process open.
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
