import express, { type Request } from 'express';
import type { HttpLogger } from '../../src/http/server';
import { activitySchema, tenantOf, type TeamsActivity } from './activities';
import type { BotConnectorTokenCheck } from './token-check';

// `POST /teams/messages` on jitbot's own HTTP server: the Bot Framework messaging endpoint. Nothing in an
// activity is used before its token holds (see token-check.ts): a refused request gets 401 and is forgotten.
// Teams resends an invoke it got no answer to within about 5 seconds (and a message after 15), with the same
// activity id; a resend waits for the first delivery's answer and gets the same one, so a click counts once.

export const TEAMS_MESSAGES_PATH = '/teams/messages';
/** An activity repeats nothing like a Slack payload does; invokes carry the card's inputs only. */
const BODY_LIMIT = '256kb';
const REMEMBERED_DELIVERIES = 5000;
const REMEMBER_MS = 10 * 60_000;

/** The HTTP answer to one activity: for an invoke, `body` is the invoke response. */
export interface TeamsHttpAnswer {
  status: number;
  body?: unknown;
}

export interface TeamsMessagesRouteOptions {
  tokenCheck: BotConnectorTokenCheck;
  /** Activities from other tenants are acknowledged and ignored. */
  tenantId: string;
  logger: HttpLogger;
  now: () => number;
  receive(activity: TeamsActivity): Promise<TeamsHttpAnswer>;
}

export function mountTeamsMessages(app: express.Express, options: TeamsMessagesRouteOptions): void {
  const deliveries = new DeliveryAnswers(options.now);
  const json = express.json({ type: () => true, limit: BODY_LIMIT });
  app.post(TEAMS_MESSAGES_PATH, json, async (req, res) => {
    const body: unknown = req.body;
    const claims = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const check = await options.tokenCheck.check(header(req, 'authorization'), claims);
    if (!check.ok) {
      options.logger.warn({ reason: check.reason }, 'teams request refused: token check failed');
      res.status(401).json({ error: 'unauthorized' });
      return;
    }

    const parsed = activitySchema.safeParse(body);
    if (!parsed.success) {
      options.logger.debug?.({ issues: parsed.error.issues.length }, 'unreadable teams activity acknowledged and ignored');
      res.status(200).end();
      return;
    }
    const activity = parsed.data;
    const tenant = tenantOf(activity);
    if (tenant?.toLowerCase() !== options.tenantId.toLowerCase()) {
      options.logger.warn({ tenant: tenant ?? null }, 'teams activity from another tenant ignored');
      res.status(200).end();
      return;
    }

    const key = `${activity.conversation.id}\n${activity.id}`;
    const answer = deliveries.answer(key, () => options.receive(activity));
    if (!answer.first) options.logger.info({ activityId: activity.id, type: activity.type }, 'teams redelivery answered from the first delivery');
    let result: TeamsHttpAnswer;
    try {
      result = await answer.promise;
    } catch (error) {
      options.logger.error({ err: error, activityId: activity.id }, 'teams activity handling failed');
      result = { status: 500, body: { error: 'internal error' } };
    }
    if (result.body === undefined) res.status(result.status).end();
    else res.status(result.status).json(result.body);
  });
}

/** The answer to each recent delivery, so a resend gets the first one's answer instead of a second effect. */
class DeliveryAnswers {
  private readonly answers = new Map<string, { promise: Promise<TeamsHttpAnswer>; until: number }>();

  constructor(private readonly now: () => number) {}

  answer(key: string, produce: () => Promise<TeamsHttpAnswer>): { promise: Promise<TeamsHttpAnswer>; first: boolean } {
    const known = this.answers.get(key);
    if (known && known.until > this.now()) return { promise: known.promise, first: false };
    const promise = produce();
    this.answers.delete(key);
    this.answers.set(key, { promise, until: this.now() + REMEMBER_MS });
    // A failure is not remembered: Teams' resend gets another try.
    promise.catch(() => this.answers.delete(key));
    while (this.answers.size > REMEMBERED_DELIVERIES) {
      const oldest = this.answers.keys().next().value;
      if (oldest === undefined) break;
      this.answers.delete(oldest);
    }
    return { promise, first: true };
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
