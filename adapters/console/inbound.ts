import { LRUCache } from 'lru-cache';
import type { ChannelRef, UserRef } from '../../src/core/model';
import type { ActionEvent, ChatCapabilities, CommandEvent, Reply } from '../../src/ports/chat';
import { DispatchingInbound } from '../shared/dispatching-inbound';
import type { InboundLogger, StartTimer } from '../shared/inbound-dispatcher';
import { renderPlainText } from '../shared/plain-text';
import type { ActionBody, CommandBody } from './schemas';
import type { ConsoleUser, ConsoleWorkspace } from './workspace';

// Turns what a person does on the console page into neutral InboundEvents, hands them to the shared dispatcher
// in answer-in-response mode (the page waits for the answer) and shows the core's Reply to that person only.
// No request logic: whether a command or a decision is allowed is the core's business.

/** A request the console refuses before it reaches the core; the message is shown to the person as is. */
export class ConsoleInputError extends Error {
  override readonly name = 'ConsoleInputError';
  constructor(
    message: string,
    readonly status: 400 | 503 = 400,
  ) {
    super(message);
  }
}

const JIT_COMMAND = /^\/jit(?:\s+([\s\S]*))?$/i;

export const NOT_A_COMMAND_HINT = 'Only messages that start with /jit reach jitbot. Try /jit help.';

/** The page has no platform deadline; past this the answer shows up on its own when it comes. */
export const CONSOLE_ANSWER_DEADLINE_MS = 10_000;

export interface ConsoleInboundOptions {
  capabilities: ChatCapabilities;
  logger: InboundLogger;
  /** The adapter's DM (used only for replies the console could not show privately; it always can). */
  notifyUser(user: UserRef, text: string, lastSeenIn: ChannelRef): Promise<void>;
  startTimer?: StartTimer;
}

export class ConsoleInbound extends DispatchingInbound {
  /** Delivery ids of messages already posted, so a browser retry does not show the person's message twice. */
  private readonly postedDeliveries = new LRUCache<string, true>({ max: 1000 });

  constructor(
    private readonly workspace: ConsoleWorkspace,
    options: ConsoleInboundOptions,
  ) {
    super({ platform: 'console', ...options });
  }

  async command(body: CommandBody): Promise<Reply> {
    const user = this.requireUser(body.user);
    this.requireVisibleConversation(user, body.channel);
    const typed = body.text.trim();
    if (typed === '') throw new ConsoleInputError('Type a command, e.g. /jit help');
    this.requireReady();

    if (this.firstDelivery(body.deliveryId)) {
      this.workspace.postMessage(
        body.channel,
        { kind: 'user', userId: user.userId, displayName: user.displayName },
        {
          text: renderPlainText(typed, 4000),
        },
      );
    }

    const match = JIT_COMMAND.exec(typed);
    if (!match) return this.showReply(user, body.channel, { kind: 'info', text: NOT_A_COMMAND_HINT });

    const event: CommandEvent = {
      kind: 'command',
      platform: 'console',
      deliveryId: body.deliveryId,
      actor: userRef(user),
      channel: { platform: 'console', channelId: body.channel },
      text: (match[1] ?? '').trim(),
    };
    return this.dispatch(event, user, body.channel);
  }

  async action(body: ActionBody): Promise<Reply> {
    const user = this.requireUser(body.user);
    this.requireVisibleConversation(user, body.channel);
    const message = this.workspace.findMessage(body.channel, body.messageId);
    if (!message)
      throw new ConsoleInputError('That message is not in this channel (it may have scrolled out of the console).');
    if (!message.card) throw new ConsoleInputError('That message is not a card.');
    if (message.card.requestId !== body.requestId)
      throw new ConsoleInputError('That card belongs to a different request.');

    const comment = body.comment?.trim();
    const maxComment = message.card.commentInput?.maxLength;
    if (comment !== undefined && maxComment !== undefined && Array.from(comment).length > maxComment) {
      throw new ConsoleInputError(`The comment is too long; keep it to ${maxComment} characters.`);
    }
    this.requireReady();

    const event: ActionEvent = {
      kind: 'action',
      platform: 'console',
      deliveryId: body.deliveryId,
      actor: userRef(user),
      channel: { platform: 'console', channelId: body.channel },
      action: body.action,
      requestId: body.requestId,
      ...(comment ? { comment } : {}),
      message: { platform: 'console', channelId: body.channel, messageId: message.id },
    };
    return this.dispatch(event, user, body.channel);
  }

  /**
   * The Reply is shown to the person and returned to the page. A core failure is shown in the person's words and
   * answered 500; an answer that takes too long is shown when it comes.
   */
  private async dispatch(event: CommandEvent | ActionEvent, user: ConsoleUser, conversationId: string): Promise<Reply> {
    const outcome = await this.dispatcher.answerInResponse({
      translate: () => ({ kind: 'event', event }),
      deadlineMs: CONSOLE_ANSWER_DEADLINE_MS,
      late: async (reply) => {
        this.showReply(user, conversationId, reply);
      },
    });
    switch (outcome.outcome) {
      case 'answered':
        this.showReply(user, conversationId, outcome.reply);
        if (outcome.failed) throw new Error('the core failed to handle a console event');
        return outcome.reply;
      case 'pending':
        return this.showReply(user, conversationId, { kind: 'info', text: outcome.text });
      default:
        throw new Error(`unexpected dispatcher outcome ${outcome.outcome} for a console event`);
    }
  }

  /** The Reply goes to the person who acted, in the channel they acted in, visible only to them. */
  private showReply(user: ConsoleUser, conversationId: string, reply: Reply): Reply {
    if (reply.kind !== 'none' && reply.text) {
      this.workspace.addEphemeral(user.userId, conversationId, reply.kind, renderPlainText(reply.text, 4000));
    }
    return reply;
  }

  requireUser(userId: string): ConsoleUser {
    const user = this.workspace.findUser(userId);
    if (!user) {
      const known = this.workspace
        .listUsers()
        .map((u) => u.userId)
        .join(', ');
      throw new ConsoleInputError(`Unknown user. Known users: ${known}.`);
    }
    return user;
  }

  private requireVisibleConversation(user: ConsoleUser, conversationId: string): void {
    if (!this.workspace.canSee(user.userId, conversationId)) {
      const known = this.workspace
        .listChannels()
        .map((c) => c.id)
        .join(', ');
      throw new ConsoleInputError(`Unknown channel. Known channels: ${known} (or your own DM).`);
    }
  }

  private requireReady(): void {
    if (!this.dispatcher.ready) throw new ConsoleInputError(this.dispatcher.say(undefined, 'inbound.not_ready'), 503);
  }

  private firstDelivery(deliveryId: string): boolean {
    if (this.postedDeliveries.has(deliveryId)) return false;
    this.postedDeliveries.set(deliveryId, true);
    return true;
  }
}

function userRef(user: ConsoleUser): UserRef {
  return { platform: 'console', userId: user.userId, displayName: user.displayName };
}
