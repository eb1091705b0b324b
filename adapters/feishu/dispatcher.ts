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

/**
 * The SDK's dispatcher, except that the envelope header's `token` (the app's Verification Token, checked already
 * where it matters) is dropped before the SDK flattens header and event together: otherwise a card callback
 * without a token of its own would seem to carry one, the same for every click.
 */
class FeishuEventDispatcher extends EventDispatcher {
  override invoke(data: unknown, params?: { needCheck?: boolean }): Promise<unknown> {
    return super.invoke(withoutHeaderToken(data), params);
  }
}

function withoutHeaderToken(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const { header } = data as { header?: unknown };
  if (header === null || typeof header !== 'object' || !('token' in header)) return data;
  const { token: _verificationToken, ...rest } = header as Record<string, unknown>;
  return { ...data, header: rest };
}

export function feishuEventDispatcher(handlers: FeishuEventHandlers, logger: HttpLogger): EventDispatcher {
  type Handles = Record<
    typeof MESSAGE_EVENT | typeof CARD_ACTION_EVENT,
    (data: Record<string, unknown>) => Promise<unknown>
  >;
  return new FeishuEventDispatcher({
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
