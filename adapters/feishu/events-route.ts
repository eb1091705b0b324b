import express, { type Request } from 'express';
import type { HttpLogger } from '../../src/http/server';
import { checkFeishuCallback, type CallbackSecrets } from './callback-verification';

// HTTP mode: Feishu posts message events and card callbacks to one URL on jitbot's own server. The body is read
// raw so the signature is checked over exactly the bytes Feishu signed; nothing is parsed or handed on unless
// the check holds, and a refused request gets 401 with no detail.

export const FEISHU_EVENTS_PATH = '/feishu/events';
/** A card callback carries the form values only, not the card; events are small. */
const BODY_LIMIT = '256kb';

export interface FeishuEventsRouteOptions extends CallbackSecrets {
  now: () => number;
  logger: HttpLogger;
  /** Handles a verified, decrypted envelope; resolves with the response body (a card callback's toast and card). */
  receive(envelope: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
}

export function mountFeishuEvents(app: express.Express, options: FeishuEventsRouteOptions): void {
  const rawBody = express.raw({ type: () => true, limit: BODY_LIMIT });
  app.post(FEISHU_EVENTS_PATH, rawBody, async (req, res) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = checkFeishuCallback(
      {
        rawBody: raw,
        timestamp: header(req, 'x-lark-request-timestamp'),
        nonce: header(req, 'x-lark-request-nonce'),
        signature: header(req, 'x-lark-signature'),
      },
      options,
      options.now(),
    );
    if (!check.ok) {
      options.logger.warn({ reason: check.reason }, 'feishu callback refused: verification failed');
      res.status(401).json({ error: 'invalid request' });
      return;
    }
    if (check.kind === 'challenge') {
      res.status(200).json({ challenge: check.challenge });
      return;
    }
    const answer = await options.receive(check.envelope);
    res.status(200).json(answer ?? {});
  });
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
