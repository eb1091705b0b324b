import express, { type Request } from 'express';
import type { HttpLogger } from '../../src/http/server';

// `POST /teams/messages` on jitbot's own HTTP server: the Bot Framework messaging endpoint. The body is parsed as
// JSON (the Bot Connector's token covers the sender, not the bytes) and handed over with the Authorization
// header; nothing in it is used before the token check in inbound.ts holds.

export const TEAMS_MESSAGES_PATH = '/teams/messages';
/** Activities are small; an invoke carries the card's inputs only. */
const BODY_LIMIT = '256kb';

/** The HTTP answer to one activity: for an invoke, `body` is the invoke response. */
export interface TeamsHttpAnswer {
  status: number;
  body?: unknown;
}

export interface TeamsMessagesRouteOptions {
  logger: HttpLogger;
  receive(authorization: string | undefined, body: unknown): Promise<TeamsHttpAnswer>;
}

export function mountTeamsMessages(app: express.Express, options: TeamsMessagesRouteOptions): void {
  const json = express.json({ type: () => true, limit: BODY_LIMIT });
  app.post(TEAMS_MESSAGES_PATH, json, async (req, res) => {
    let answer: TeamsHttpAnswer;
    try {
      answer = await options.receive(header(req, 'authorization'), req.body);
    } catch (error) {
      options.logger.error({ err: error }, 'teams activity handling failed');
      answer = { status: 500, body: { error: 'internal error' } };
    }
    if (answer.body === undefined) res.status(answer.status).end();
    else res.status(answer.status).json(answer.body);
  });
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
