import type { ActionEvent, CommandEvent, InboundHandler, Reply } from '../../src/ports/chat';
import type { UserRef } from '../../src/core/model';
import { renderPlainText } from '../shared/plain-text';
import type { ActionBody, CommandBody } from './schemas';
import { type ConsoleUser, type ConsoleWorkspace } from './workspace';

// Turns what a person does on the console page into neutral InboundEvents and shows the core's Reply to that
// person only. No request logic: whether a command or a decision is allowed is the core's business.

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
export const HANDLER_FAILED_TEXT = 'jitbot could not process this; the details are in its log.';

export class ConsoleInbound {
  /** Delivery ids of messages already posted, so a browser retry does not show the person's message twice. */
  private readonly postedDeliveries = new Set<string>();
  private static readonly REMEMBERED_DELIVERIES = 1000;

  constructor(private readonly workspace: ConsoleWorkspace) {}

  async command(body: CommandBody, handler: InboundHandler | undefined): Promise<Reply> {
    const user = this.requireUser(body.user);
    this.requireVisibleConversation(user, body.channel);
    const typed = body.text.trim();
    if (typed === '') throw new ConsoleInputError('Type a command, e.g. /jit help');
    const ready = requireHandler(handler);

    if (this.firstDelivery(body.deliveryId)) {
      this.workspace.postMessage(body.channel, { kind: 'user', userId: user.userId, displayName: user.displayName }, {
        text: renderPlainText(typed, 4000),
      });
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
    return this.showReply(user, body.channel, await this.dispatch(ready, event, user, body.channel));
  }

  async action(body: ActionBody, handler: InboundHandler | undefined): Promise<Reply> {
    const user = this.requireUser(body.user);
    this.requireVisibleConversation(user, body.channel);
    const message = this.workspace.findMessage(body.channel, body.messageId);
    if (!message) throw new ConsoleInputError('That message is not in this channel (it may have scrolled out of the console).');
    if (!message.card) throw new ConsoleInputError('That message is not a card.');
    if (message.card.requestId !== body.requestId) throw new ConsoleInputError('That card belongs to a different request.');

    const comment = body.comment?.trim();
    const maxComment = message.card.commentInput?.maxLength;
    if (comment !== undefined && maxComment !== undefined && Array.from(comment).length > maxComment) {
      throw new ConsoleInputError(`The comment is too long; keep it to ${maxComment} characters.`);
    }
    const ready = requireHandler(handler);

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
    return this.showReply(user, body.channel, await this.dispatch(ready, event, user, body.channel));
  }

  private async dispatch(handler: InboundHandler, event: CommandEvent | ActionEvent, user: ConsoleUser, conversationId: string): Promise<Reply> {
    try {
      return await handler(event);
    } catch (err) {
      this.workspace.addEphemeral(user.userId, conversationId, 'error', HANDLER_FAILED_TEXT);
      throw err;
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
      const known = this.workspace.listUsers().map((u) => u.userId).join(', ');
      throw new ConsoleInputError(`Unknown user. Known users: ${known}.`);
    }
    return user;
  }

  private requireVisibleConversation(user: ConsoleUser, conversationId: string): void {
    if (!this.workspace.canSee(user.userId, conversationId)) {
      const known = this.workspace.listChannels().map((c) => c.id).join(', ');
      throw new ConsoleInputError(`Unknown channel. Known channels: ${known} (or your own DM).`);
    }
  }

  private firstDelivery(deliveryId: string): boolean {
    if (this.postedDeliveries.has(deliveryId)) return false;
    this.postedDeliveries.add(deliveryId);
    if (this.postedDeliveries.size > ConsoleInbound.REMEMBERED_DELIVERIES) {
      const oldest = this.postedDeliveries.values().next().value;
      if (oldest !== undefined) this.postedDeliveries.delete(oldest);
    }
    return true;
  }
}

function requireHandler(handler: InboundHandler | undefined): InboundHandler {
  if (!handler) throw new ConsoleInputError('jitbot is still starting; try again in a moment.', 503);
  return handler;
}

function userRef(user: ConsoleUser): UserRef {
  return { platform: 'console', userId: user.userId, displayName: user.displayName };
}
