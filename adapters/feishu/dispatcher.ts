import { EventDispatcher, LoggerLevel } from '@larksuiteoapi/node-sdk';
import type { HttpLogger } from '../../src/http/server';
import { feishuSdkLogger } from './sdk-logger';

// One SDK EventDispatcher for both transports. The long connection gives it every frame; the HTTP route gives it
// envelopes it has already verified and decrypted. It is built without secrets on purpose: its own checks are
// the weaker ones described in callback-verification.ts, and frames on the long connection are not signed.

/** The answer to a card callback, sent back within 3 seconds: a toast and, optionally, the redrawn card. */
export interface CardCallbackAnswer {
  toast?: { type: 'info' | 'success' | 'warning' | 'error'; content: string };
  card?: { type: 'raw'; data: unknown };
}

export interface FeishuEventHandlers {
  /** im.message.receive_v1, in the SDK's flattened form (header and event fields side by side). */
  message(data: Record<string, unknown>): Promise<void>;
  /** card.action.trigger, flattened the same way; resolves with the answer to send back. */
  cardAction(data: Record<string, unknown>): Promise<CardCallbackAnswer | undefined>;
}

export const MESSAGE_EVENT = 'im.message.receive_v1';
export const CARD_ACTION_EVENT = 'card.action.trigger';

export function feishuEventDispatcher(handlers: FeishuEventHandlers, logger: HttpLogger): EventDispatcher {
  type Handles = Record<
    typeof MESSAGE_EVENT | typeof CARD_ACTION_EVENT,
    (data: Record<string, unknown>) => Promise<unknown>
  >;
  return new EventDispatcher({
    logger: feishuSdkLogger(logger, 'feishu-events'),
    loggerLevel: LoggerLevel.warn,
  }).register<Handles>({
    [MESSAGE_EVENT]: async (data) => {
      await handlers.message(data);
    },
    [CARD_ACTION_EVENT]: async (data) => (await handlers.cardAction(data)) ?? {},
  });
}

/** Hands a verified envelope to the dispatcher; resolves with what to answer (undefined for other events). */
export async function dispatchEnvelope(
  dispatcher: EventDispatcher,
  envelope: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const result: unknown = await dispatcher.invoke(envelope, { needCheck: false });
  return result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : undefined;
}
