import { LRUCache } from 'lru-cache';
import type { ChannelRef, UserRef } from '../../src/core/model';
import type { ChatCapabilities, Reply } from '../../src/ports/chat';
import { DispatchingInbound } from '../shared/dispatching-inbound';
import type { AnswerInResponseOutcome, InboundLogger } from '../shared/inbound-dispatcher';
import { activitySchema, tenantOf, translateActivity, type TeamsOrigin } from './activities';
import { cardResponse, messageResponse } from './invoke-response';
import type { TeamsHttpAnswer } from './messages-route';
import type { BotConnectorTokenCheck } from './token-check';

// Teams' inbound side: one activity at a time from the messaging endpoint, through the shared dispatcher.
// - The Bot Connector's token is checked first, by this transport, before anything in the body is used (so a
//   remembered answer below is only ever given to a verified resend); a refused request is answered 401.
// - A command (a message) is acknowledged at once; Teams has no private reply to a message, so the dispatcher
//   sends the core's answer by DM (the 1:1 chat).
// - A card click (`adaptiveCard/action` invoke) is answered in the HTTP response, within Teams' 5 seconds: the
//   redrawn card for the clicker with the core's answer on top, or a message when the click was refused; the card
//   itself is then never replaced by an error. Teams resends an invoke it got no answer to; the answer is remembered for ten minutes by
//   activity id, so a late resend gets the first answer instead of being handled again. A resend this process
//   has no answer for (after a restart, or on another replica) is a duplicate to the core, and is told so.

/** Teams waits 5 s for an invoke response; what the core has not answered by then follows by DM. */
export const INVOKE_DEADLINE_MS = 4_000;
const REMEMBER_ANSWERS_MS = 10 * 60_000;

export interface TeamsInboundOptions {
  tokenCheck: BotConnectorTokenCheck;
  tenantId: string;
  capabilities: ChatCapabilities;
  logger: InboundLogger;
  /** A verified activity named this Bot Connector (any activity: a message, a click, the bot being added). */
  serviceUrlSeen(serviceUrl: string): void;
  /** Where a person was seen: their app-scoped id and conversation, for later DMs and look-ups. */
  seen(origin: TeamsOrigin, actor: UserRef): void;
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
}

export class TeamsInbound extends DispatchingInbound {
  private readonly answers = new LRUCache<string, TeamsHttpAnswer>({ max: 5000, ttl: REMEMBER_ANSWERS_MS });

  constructor(private readonly options: TeamsInboundOptions) {
    super({
      platform: 'teams',
      capabilities: options.capabilities,
      logger: options.logger,
      notifyUser: options.notifyUser,
    });
  }

  async receive(authorization: string | undefined, body: unknown): Promise<TeamsHttpAnswer> {
    const claims = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const check = await this.options.tokenCheck.check(authorization, claims);
    if (!check.ok) {
      this.options.logger.warn(
        { platform: 'teams', reason: check.reason },
        'inbound request refused: verification failed',
      );
      return { status: 401, body: { error: 'unauthorized' } };
    }

    const parsed = activitySchema.safeParse(body);
    if (!parsed.success) return { status: 200 };
    const activity = parsed.data;
    const tenant = tenantOf(activity);
    if (tenant?.toLowerCase() !== this.options.tenantId.toLowerCase()) {
      this.options.logger.warn({ platform: 'teams', tenant: tenant ?? null }, 'activity from another tenant ignored');
      return { status: 200 };
    }

    this.options.serviceUrlSeen(activity.serviceUrl);
    const translation = translateActivity(activity);
    if (translation.kind === 'ignored') {
      // E.g. the app installed for someone: they can be DMed from now on, before they write to the bot.
      if (translation.personal) this.options.seen(translation.personal.origin, translation.personal.actor);
      return { status: 200 };
    }
    const { event } = translation;
    this.options.seen(translation.origin, event.actor);

    if (translation.kind === 'command') {
      await this.dispatcher.ackThenAnswer({
        translate: () => ({ kind: 'event', event }),
        // Never called: commands have no private reply on Teams, the dispatcher sends the answer by DM.
        answer: async () => undefined,
      });
      return { status: 200 };
    }

    const remembered = this.answers.get(event.deliveryId);
    if (remembered) {
      this.options.logger.info(
        { platform: 'teams', deliveryId: event.deliveryId },
        'resent invoke answered as the first time',
      );
      return remembered;
    }
    const outcome = await this.dispatcher.answerInResponse({
      translate: () => ({ kind: 'event', event }),
      deadlineMs: INVOKE_DEADLINE_MS,
    });
    const answer = invokeAnswer(outcome, () => this.dispatcher.say(event, 'inbound.already_handled'));
    if (outcome.outcome === 'answered' && !outcome.failed) this.answers.set(event.deliveryId, answer);
    return answer;
  }
}

/**
 * An invoke is always answered with an invoke response: when the core has nothing to say (a resend it had seen
 * already, e.g. after a restart or on another replica, where no answer was remembered), the clicker is told it was
 * handled, rather than getting an empty body Teams shows as an error.
 */
function invokeAnswer(outcome: AnswerInResponseOutcome, alreadyHandled: () => string): TeamsHttpAnswer {
  switch (outcome.outcome) {
    case 'answered':
      return { status: 200, body: clickResponse(outcome.reply) ?? messageResponse(alreadyHandled()) };
    case 'pending':
      return { status: 200, body: messageResponse(outcome.text) };
    case 'refused':
      return { status: 401, body: { error: 'unauthorized' } };
    case 'invalid':
      return { status: outcome.status, body: { error: outcome.error } };
    case 'handshake':
    case 'ignored':
      return { status: 200 };
  }
}

/** A refusal is a message next to the card (never an error card in its place); otherwise the redrawn card. */
function clickResponse(reply: Reply): ReturnType<typeof cardResponse> | undefined {
  if (reply.kind === 'error') return messageResponse(reply.text ?? '');
  if (reply.card) return cardResponse(reply.card, reply.text);
  if (reply.text) return messageResponse(reply.text);
  return undefined;
}
