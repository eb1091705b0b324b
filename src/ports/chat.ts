import type { ApprovalCard, CardActionId } from '../core/card';
import type { Locale } from '../core/i18n/catalog';
import type { ChannelRef, MessageRef, Platform, UserRef } from '../core/model';

interface InboundBase {
  platform: Platform;
  /** The platform's delivery id (Slack envelope/event id, Teams activity id, …) for de-duplication. */
  deliveryId: string;
  actor: UserRef;
  /** Where the person acted; also "where they were last seen" for look-ups and DMs about this event. */
  channel: ChannelRef;
  /** The person's language as the platform reports it (a BCP 47 tag such as `ja-JP`), when it does. */
  locale?: string;
}

/** `/jit …` typed by a person; `text` is everything after `/jit`. */
export interface CommandEvent extends InboundBase {
  kind: 'command';
  text: string;
}

/** A button clicked on a card. Buttons carry only the request id. */
export interface ActionEvent extends InboundBase {
  kind: 'action';
  action: CardActionId;
  requestId: string;
  comment?: string;
  /** The card that was clicked, so a stale card can be redrawn. */
  message?: MessageRef;
}

export type InboundEvent = CommandEvent | ActionEvent;

/** What the core says back to the person who acted (privately where the platform can). */
export interface Reply {
  kind: 'info' | 'error' | 'none';
  text?: string;
  /**
   * The clicked card, redrawn from the state after this click. Only for card clicks on platforms whose
   * capabilities say `cardInClickResponse` (Feishu, Teams, DingTalk show it from the click's response).
   */
  card?: ApprovalCard;
}

export type InboundHandler = (event: InboundEvent) => Promise<Reply>;

/** What an adapter is told when it starts, besides the handler. */
export interface InboundContext {
  /** The workspace's language: replies the adapter writes itself (failures, "working…") use it. */
  locale: Locale;
  /**
   * The core's durable intake. Adapters pass the context to the shared dispatcher unchanged; it then stores each
   * event through `receive` before the platform is acknowledged and has it handled by `process` instead of the
   * handler, so an acknowledged event survives a crash (it is replayed at start). Absent: the handler alone.
   */
  intake?: InboundIntake;
}

/** Store first, acknowledge, then process (see `InboundContext.intake`). */
export interface InboundIntake {
  /**
   * Stores the event durably; this is also the claim of its delivery id. False: that delivery was received before
   * (a redelivery) and must not be handled again. Rejects when the store fails.
   */
  receive(event: InboundEvent): Promise<boolean>;
  /** Handles an event `receive` accepted; never rejects (failures are a Reply, and forget the event). */
  process(event: InboundEvent): Promise<Reply>;
  /**
   * The person has been given the Reply (or it went wherever it could): the event is done and is not replayed.
   * Marked after the answer, not before, so a crash in between repeats the answer rather than losing it.
   */
  answered(event: InboundEvent): Promise<void>;
}

/** What a platform can do. The service and the outbox read these; adapters only declare them. */
export interface ChatCapabilities {
  /**
   * Replies can go in a card's thread. When false, the outbox posts thread replies as plain channel messages
   * that quote the request id and mention the requester.
   */
  threads: boolean;
  /** A reply to a card click can be shown to the clicker only (ephemeral, toast, invoke message). Else: a DM. */
  privateClickReply: boolean;
  /** A reply to a typed command can be shown to that person only (ephemeral). Else: a DM. */
  privateCommandReply: boolean;
  /** The click response carries the redrawn card, so the service puts it in `Reply.card`. */
  cardInClickResponse: boolean;
  inlineInputs: boolean;
  updateInPlace: boolean;
  emailLookup: boolean;
}

export interface ResolvedUser {
  userId: string;
  displayName: string;
  email?: string;
}

/** What identifies one send, for platforms that drop a repeated send by a key the sender picks (Feishu's `uuid`). */
export interface SendOptions {
  /**
   * The same on every try of one delivery (the outbox's `<requestId>/<effectId>`), different for every other one;
   * the adapter adds the target (chat, thread, person) itself. Absent: the send has no durable identity, and each
   * call is a message of its own.
   */
  idempotencyKey?: string;
}

/** Options for a plain channel message. */
export interface PostMessageOptions extends SendOptions {
  /** Mention this person in the message (platform syntax; it notifies them). Always a user of this platform. */
  mention?: UserRef;
}

/** One chat platform. Translates platform events into InboundEvents and renders the neutral card; no request logic. */
export interface ChatAdapter {
  readonly platform: Platform;
  readonly capabilities: ChatCapabilities;
  start(onEvent: InboundHandler, context: InboundContext): Promise<void>;
  stop(): Promise<void>;
  postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef>;
  updateCard(message: MessageRef, card: ApprovalCard): Promise<void>;
  /** A reply in the card's thread. Called only when `capabilities.threads`. */
  replyInThread(message: MessageRef, text: string, options?: SendOptions): Promise<MessageRef>;
  /** A plain message in a channel (thread replies on platforms without threads). */
  postMessage(channel: ChannelRef, text: string, options?: PostMessageOptions): Promise<MessageRef>;
  /**
   * A direct message to a person. `lastSeenIn` is the conversation they were last seen in (the event's channel
   * for the person acting, the request's origin for its requester): Teams needs it for a proactive message.
   */
  notifyUser(user: UserRef, text: string, lastSeenIn?: ChannelRef, options?: SendOptions): Promise<void>;
  /** Name and email of a person; `lastSeenIn` as for notifyUser (Teams looks members up in a conversation). */
  resolveUser(user: UserRef, lastSeenIn?: ChannelRef): Promise<ResolvedUser>;
  /** Whether the bot can post in the channel (e.g. is a member); checked before an admin maps it. Absent: assume yes. */
  canPostIn?(channel: ChannelRef): Promise<boolean>;
}

/**
 * A platform error that retrying cannot fix (Slack `not_in_channel`, `channel_not_found`, `msg_too_long`, …).
 * The outbox gives the effect up at once instead of retrying it; the message names the platform's code.
 */
export class ChatRefused extends Error {
  override readonly name = 'ChatRefused';
  constructor(
    message: string,
    /** The platform's own error code, e.g. `not_in_channel`. */
    readonly code: string,
  ) {
    super(message);
  }
}
