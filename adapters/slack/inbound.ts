import type { ChannelRef, UserRef } from '../../src/core/model';
import type { ChatCapabilities, InboundEvent } from '../../src/ports/chat';
import { DispatchingInbound, withDisplayName } from '../shared/dispatching-inbound';
import type { AckThenAnswerOutcome, InboundLogger, Translation, Verification } from '../shared/inbound-dispatcher';
import { replyMessage } from './messages';
import { actionEvent, blockActionsSchema, commandEvent, slashCommandSchema } from './payloads';

// Slack's inbound side, shared by HTTP and Socket Mode: reads a delivery into a neutral event and hands it to the
// shared dispatcher in ack-then-answer mode. Slack is acknowledged at once (it allows 3 s); the core's Reply
// reaches the person afterwards, ephemerally, through the delivery's response_url. No request logic here.

/** One delivery from Slack, whichever transport carried it. */
export interface SlackDelivery {
  /** Signature check (HTTP); Socket Mode deliveries come over an authenticated socket and have none. */
  verify?(): Verification;
  /** The payload; called only once verified. */
  read(): SlackBody;
  /** Slack's redelivery counter (X-Slack-Retry-Num / retry_attempt); the derived delivery id does not change. */
  retryNum?: number;
}

/** A delivery's payload, and how it came: a form body (commands, interactions) or JSON (the Events API). */
export type SlackBody =
  | { ok: true; body: unknown; encoding: 'form' | 'json' | 'socket' }
  | { ok: false; status: number; error: string };

export const DEFAULT_SLASH_COMMAND = '/jit';

/** Interaction payload types; Slack sends all of them form-encoded (`payload=`). */
const INTERACTION_TYPES = new Set([
  'block_actions',
  'block_suggestion',
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'interactive_message',
  'dialog_submission',
]);

export interface SlackInboundOptions {
  logger: InboundLogger;
  capabilities: ChatCapabilities;
  /** The slash command the Slack app defines (`/jit`); another one is refused. */
  command: string;
  /** Display name for a user (cached look-up); undefined when unknown. */
  displayName(userId: string): Promise<string | undefined>;
  /** POSTs a message to a response_url. */
  respond(responseUrl: string, message: Record<string, unknown>): Promise<void>;
  /** A DM to the person (for replies Slack could not show privately). */
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
}

export class SlackInbound extends DispatchingInbound {
  constructor(private readonly options: SlackInboundOptions) {
    super({
      platform: 'slack',
      capabilities: options.capabilities,
      logger: options.logger,
      notifyUser: options.notifyUser,
      enrich: withDisplayName(options.displayName),
    });
  }

  /** Resolves with what to acknowledge Slack with; the core's work continues in the background (see idle()). */
  async receive(delivery: SlackDelivery): Promise<AckThenAnswerOutcome> {
    // Where to answer this delivery's person; set once the payload is read.
    let responseUrl = '';
    return this.dispatcher.ackThenAnswer({
      ...(delivery.verify && { verify: () => delivery.verify!() }),
      ...(delivery.retryNum !== undefined && { retryNum: delivery.retryNum }),
      translate: () => {
        const read = delivery.read();
        if (!read.ok) return { kind: 'invalid', status: read.status, error: read.error };
        const translated = this.translate(read);
        if ('responseUrl' in translated) {
          responseUrl = translated.responseUrl;
          return translated.translation;
        }
        return translated;
      },
      answer: (reply) =>
        this.options.respond(responseUrl, {
          response_type: 'ephemeral',
          replace_original: false,
          ...replyMessage(reply.text ?? ''),
        }),
    });
  }

  private translate(
    read: Extract<SlackBody, { ok: true }>,
  ): Translation | { translation: Translation; responseUrl: string } {
    const { body, encoding } = read;
    const shape = (body ?? {}) as { type?: unknown; command?: unknown; challenge?: unknown };
    const isCommand = typeof shape.command === 'string';
    const isInteraction = typeof shape.type === 'string' && INTERACTION_TYPES.has(shape.type);
    if (encoding === 'json' && (isCommand || isInteraction)) {
      return {
        kind: 'invalid',
        status: 415,
        error: 'slash commands and interactions must be application/x-www-form-urlencoded',
      };
    }
    if (shape.type === 'url_verification' && typeof shape.challenge === 'string') {
      return { kind: 'handshake', response: { challenge: shape.challenge } };
    }
    if (isCommand) {
      const command = slashCommandSchema.safeParse(body);
      if (!command.success)
        return {
          kind: 'invalid',
          status: 400,
          error: `unreadable slash command (${describeIssues(command.error.issues)})`,
        };
      const { event, responseUrl } = commandEvent(command.data);
      const expected = this.options.command;
      if (command.data.command.toLowerCase() !== expected.toLowerCase()) {
        const params = { command: command.data.command.slice(0, 40), expected };
        return { translation: { kind: 'refuse', event, key: 'inbound.wrong_command', params }, responseUrl };
      }
      return { translation: { kind: 'event', event }, responseUrl };
    }
    if (shape.type === 'block_actions') {
      const actions = blockActionsSchema.safeParse(body);
      if (!actions.success)
        return {
          kind: 'invalid',
          status: 400,
          error: `unreadable block_actions (${describeIssues(actions.error.issues)})`,
        };
      const translated = actionEvent(actions.data);
      if (!translated) return { kind: 'ignore', why: 'not a jitbot card button' };
      return {
        translation: { kind: 'event', event: translated.event as InboundEvent },
        responseUrl: translated.responseUrl,
      };
    }
    // Events, other interactions: acknowledged and otherwise ignored.
    return { kind: 'ignore' };
  }
}

/** Names the fields that did not fit (never their values: they are what the person typed). */
function describeIssues(issues: readonly { path: PropertyKey[] }[]): string {
  return [...new Set(issues.map((issue) => issue.path.map(String).join('.') || '(body)'))].join(', ');
}
