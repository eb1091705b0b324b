import type { ApprovalCard } from '../core/card';
import type { ChannelRef, MessageRef, Platform, UserRef } from '../core/model';

interface InboundBase {
  platform: Platform;
  /** The platform's delivery id (Slack envelope/event id, Teams activity id, …) for de-duplication. */
  deliveryId: string;
  actor: UserRef;
  channel: ChannelRef;
}

/** `/jit …` typed by a person; `text` is everything after `/jit`. */
export interface CommandEvent extends InboundBase {
  kind: 'command';
  text: string;
}

/** A button clicked on a card. Buttons carry only the request id. */
export interface ActionEvent extends InboundBase {
  kind: 'action';
  action: 'approve' | 'reject' | 'revoke';
  requestId: string;
  comment?: string;
  /** The card that was clicked, so a stale card can be redrawn. */
  message?: MessageRef;
}

export type InboundEvent = CommandEvent | ActionEvent;

/** What the core says back to the person inside the platform's ack window (ephemeral where possible). */
export interface Reply {
  kind: 'info' | 'error' | 'none';
  text?: string;
}

export type InboundHandler = (event: InboundEvent) => Promise<Reply>;

export interface ChatCapabilities {
  threads: boolean;
  ephemeral: boolean;
  inlineInputs: boolean;
  updateInPlace: boolean;
  emailLookup: boolean;
}

export interface ResolvedUser {
  userId: string;
  displayName: string;
  email?: string;
}

/** One chat platform. Translates platform events into InboundEvents and renders the neutral card; no request logic. */
export interface ChatAdapter {
  readonly platform: Platform;
  readonly capabilities: ChatCapabilities;
  start(onEvent: InboundHandler): Promise<void>;
  stop(): Promise<void>;
  postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef>;
  updateCard(message: MessageRef, card: ApprovalCard): Promise<void>;
  replyInThread(message: MessageRef, text: string): Promise<MessageRef>;
  notifyUser(user: UserRef, text: string): Promise<void>;
  resolveUser(user: UserRef): Promise<ResolvedUser>;
  /** Whether the bot can post in the channel (e.g. is a member); checked before an admin maps it. Absent: assume yes. */
  canPostIn?(channel: ChannelRef): Promise<boolean>;
}
