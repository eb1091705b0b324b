import express, { type Request, type Response } from 'express';
import type { HttpLogger } from '../../src/http/server';
import type { SlackDelivery } from './inbound';
import { checkSlackSignature } from './request-signature';

// HTTP mode: Slack posts slash commands, button clicks and events to one URL on jitbot's own server. The body
// is read raw so the signature is checked over exactly the bytes Slack signed; nothing is parsed, and nothing
// reaches the core, unless the signature holds.

export const SLACK_EVENTS_PATH = '/slack/events';
/** A block_actions payload repeats the whole card, so this is well above a card's size. */
const BODY_LIMIT = '512kb';

export interface SlackEventsRouteOptions {
  signingSecret: string;
  now: () => number;
  logger: HttpLogger;
  receive(delivery: SlackDelivery): Promise<void>;
}

export function mountSlackEvents(app: express.Express, options: SlackEventsRouteOptions): void {
  const rawBody = express.raw({ type: () => true, limit: BODY_LIMIT });
  app.post(SLACK_EVENTS_PATH, rawBody, async (req, res) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

    // Slack's certificate check on slash-command URLs is unsigned; it is answered and does nothing else.
    if (contentType === 'application/x-www-form-urlencoded' && isSslCheck(raw)) {
      res.status(200).end();
      return;
    }

    const check = checkSlackSignature(
      { rawBody: raw, timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature') },
      options.signingSecret,
      options.now(),
    );
    if (!check.ok) {
      options.logger.warn({ reason: check.reason }, 'slack request refused: signature check failed');
      res.status(401).set('X-Slack-No-Retry', '1').json({ error: 'invalid request signature' });
      return;
    }

    const body = parseBody(contentType, check.body);
    if (body === undefined) {
      res.status(400).set('X-Slack-No-Retry', '1').json({ error: 'unreadable body' });
      return;
    }

    const retry = header(req, 'x-slack-retry-num');
    await options.receive({
      body,
      ...(retry !== undefined && /^\d+$/.test(retry) && { retryNum: Number(retry) }),
      ack: async (response) => acknowledge(res, response),
    });
    acknowledge(res);
  });
}

/** The first acknowledgement wins; later ones (a safety net) do nothing. */
function acknowledge(res: Response, response?: Record<string, unknown>): void {
  if (res.headersSent) return;
  if (response === undefined) res.status(200).end();
  else res.status(200).json(response);
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isSslCheck(rawBody: Buffer): boolean {
  if (rawBody.length > 1024) return false;
  return new URLSearchParams(rawBody.toString('utf8')).get('ssl_check') === '1';
}

/** Form bodies are slash commands, or interactions with their JSON in `payload`; anything else is Events API JSON. */
function parseBody(contentType: string, text: string): unknown {
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams(text);
      const payload = form.get('payload');
      return payload !== null ? JSON.parse(payload) : Object.fromEntries(form);
    }
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
