import express, { type Request, type Response } from 'express';
import type { AckThenAnswerOutcome } from '../shared/inbound-dispatcher';
import type { SlackBody, SlackDelivery } from './inbound';
import { checkSlackSignature } from './request-signature';

// HTTP mode: Slack posts slash commands, button clicks and events to one URL on jitbot's own server. The body
// is read raw so the signature is checked over exactly the bytes Slack signed; nothing is parsed, and nothing
// reaches the core, unless the signature holds (the dispatcher runs `verify` first).

export const SLACK_EVENTS_PATH = '/slack/events';
/** A block_actions payload repeats the whole card, so this is well above a card's size. */
const BODY_LIMIT = '512kb';

export interface SlackEventsRouteOptions {
  signingSecret: string;
  now: () => number;
  receive(delivery: SlackDelivery): Promise<AckThenAnswerOutcome>;
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

    let verifiedText = '';
    const retry = header(req, 'x-slack-retry-num');
    const outcome = await options.receive({
      verify: () => {
        const check = checkSlackSignature(
          {
            rawBody: raw,
            timestamp: header(req, 'x-slack-request-timestamp'),
            signature: header(req, 'x-slack-signature'),
          },
          options.signingSecret,
          options.now(),
        );
        if (!check.ok) return { ok: false, reason: check.reason };
        verifiedText = check.body;
        return { ok: true };
      },
      read: () => parseBody(contentType, verifiedText),
      ...(retry !== undefined && /^\d+$/.test(retry) && { retryNum: Number(retry) }),
    });
    answer(res, outcome);
  });
}

/** Slack is told not to retry what can never succeed. */
function answer(res: Response, outcome: AckThenAnswerOutcome): void {
  switch (outcome.outcome) {
    case 'refused':
      res.status(401).set('X-Slack-No-Retry', '1').json({ error: 'invalid request signature' });
      return;
    case 'invalid':
      res.status(outcome.status).set('X-Slack-No-Retry', '1').json({ error: outcome.error });
      return;
    case 'handshake':
      res.status(200).json(outcome.response);
      return;
    case 'ignored':
    case 'acknowledged':
      res.status(200).end();
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isSslCheck(rawBody: Buffer): boolean {
  if (rawBody.length > 1024) return false;
  return new URLSearchParams(rawBody.toString('utf8')).get('ssl_check') === '1';
}

/**
 * Form bodies are slash commands, or interactions with their JSON in `payload`; JSON bodies are the Events API
 * (the inbound side refuses commands and interactions that come as JSON). Nothing else is read.
 */
function parseBody(contentType: string, text: string): SlackBody {
  const unreadable: SlackBody = { ok: false, status: 400, error: 'unreadable body' };
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams(text);
      const payload = form.get('payload');
      return { ok: true, encoding: 'form', body: payload !== null ? JSON.parse(payload) : Object.fromEntries(form) };
    }
    if (contentType === 'application/json') return { ok: true, encoding: 'json', body: JSON.parse(text) };
    return {
      ok: false,
      status: 415,
      error: 'send application/x-www-form-urlencoded (commands, interactions) or application/json (events)',
    };
  } catch {
    return unreadable;
  }
}
