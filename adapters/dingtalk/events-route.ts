import express, { type Request } from 'express';
import type { HttpLogger } from '../../src/http/server';
import { checkDingTalkSignature, MAX_TIMESTAMP_SKEW_MS } from './request-signature';

// HTTP mode: DingTalk posts robot messages to one URL on jitbot's own server. Nothing is parsed, and nothing
// reaches the core, unless the signature holds. Because the signature covers only the timestamp, each
// (timestamp, sign) pair is accepted once: a captured pair replayed with another body within its hour is refused.
// The answer (200) goes out only once the message has been handled, so a failure (500) is retried by DingTalk.

export const DINGTALK_EVENTS_PATH = '/dingtalk/events';
const BODY_LIMIT = '64kb';
/** More signatures than DingTalk can deliver in an hour to one robot; the oldest go first. */
const MAX_REMEMBERED = 100_000;

export interface DingTalkEventsRouteOptions {
  appSecret: string;
  now: () => number;
  logger: HttpLogger;
  /** Hands over a verified robot message; resolves once it is handled and stored. */
  receive(body: unknown): Promise<void>;
  maxSkewMs?: number;
}

export function mountDingTalkEvents(app: express.Express, options: DingTalkEventsRouteOptions): void {
  const used = new UsedSignatures(options.maxSkewMs ?? MAX_TIMESTAMP_SKEW_MS);
  app.post(DINGTALK_EVENTS_PATH, express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    const timestamp = header(req, 'timestamp');
    const sign = header(req, 'sign');
    const now = options.now();
    const check = checkDingTalkSignature({ timestamp, sign }, options.appSecret, now, options.maxSkewMs);
    if (!check.ok) {
      options.logger.warn({ reason: check.reason }, 'dingtalk request refused: signature check failed');
      res.status(401).json({ error: 'invalid request signature' });
      return;
    }
    const key = `${timestamp}/${sign}`;
    if (!used.claim(key, now)) {
      options.logger.warn({ reason: 'replayed_signature' }, 'dingtalk request refused: signature already used');
      res.status(401).json({ error: 'invalid request signature' });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).toString('utf8'));
    } catch {
      res.status(400).json({ error: 'unreadable body' });
      return;
    }
    try {
      await options.receive(body);
    } catch (error) {
      used.release(key);
      options.logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        'dingtalk message could not be handled; DingTalk will retry',
      );
      res.status(500).json({ error: 'not handled' });
      return;
    }
    res.status(200).json({});
  });
}

/** Signatures seen within their validity window (in memory, per process). */
class UsedSignatures {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  claim(key: string, now: number): boolean {
    this.prune(now);
    if (this.seen.has(key)) return false;
    this.seen.set(key, now + 2 * this.windowMs);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  release(key: string): void {
    this.seen.delete(key);
  }

  private prune(now: number): void {
    for (const [key, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(key);
    }
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
