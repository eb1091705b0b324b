import { createCipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FeishuAdapterOptions } from '../../../adapters/feishu/feishu-adapter';
import { FAKE_APP_ID, FAKE_APP_SECRET, type FakeFeishu } from '../../support/fake-feishu';

// Callbacks as Feishu sends them: envelopes (schema 2.0), AES-256-CBC encrypted with the app's Encrypt Key and
// signed with X-Lark-Signature = sha256(timestamp + nonce + encryptKey + body).

export const APP_ID = 'cli_a1b2c3d4e5f60718';
export const APP_SECRET = 'fake-app-secret';
export const ENCRYPT_KEY = 'fake-encrypt-key';
export const VERIFICATION_TOKEN = 'fake-verification-token';
export const TENANT_KEY = 'tenant_fake';
export const BOT_OPEN_ID = 'ou_jitbot';

/** A Feishu adapter in HTTP mode for this fake: its app, the callbacks' keys above, the Open API pointed there. */
export function httpModeOptions(fake: FakeFeishu, overrides: Partial<FeishuAdapterOptions> = {}): FeishuAdapterOptions {
  return {
    mode: 'http',
    appId: FAKE_APP_ID,
    appSecret: FAKE_APP_SECRET,
    encryptKey: ENCRYPT_KEY,
    verificationToken: VERIFICATION_TOKEN,
    domain: fake.url,
    ...overrides,
  };
}

export function encrypt(payload: unknown, encryptKey = ENCRYPT_KEY): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(JSON.stringify(payload)), cipher.final()]).toString('base64');
}

export function encryptedBody(payload: unknown, encryptKey = ENCRYPT_KEY): string {
  return JSON.stringify({ encrypt: encrypt(payload, encryptKey) });
}

export interface SignOptions {
  encryptKey?: string;
  /** Epoch seconds. */
  timestamp?: number;
  nonce?: string;
}

export function signatureHeaders(body: string, options: SignOptions = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? randomUUID();
  const signature = createHash('sha256')
    .update(timestamp + nonce + (options.encryptKey ?? ENCRYPT_KEY) + body)
    .digest('hex');
  return { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature };
}

export interface Person {
  openId: string;
  unionId: string;
  userId?: string;
  name?: string;
}

export const DANA: Person = { openId: 'ou_dana', unionId: 'on_dana', userId: 'dana', name: 'Dana' };
export const ALICE: Person = { openId: 'ou_alice', unionId: 'on_alice', userId: 'alice', name: 'Alice' };

function header(eventType: string, eventId: string, token: string) {
  return {
    event_id: eventId,
    token,
    create_time: String(Date.now()),
    event_type: eventType,
    tenant_key: TENANT_KEY,
    app_id: APP_ID,
  };
}

export interface MessageOptions {
  chatType?: 'group' | 'p2p';
  chatId?: string;
  messageId?: string;
  eventId?: string;
  token?: string;
  sender?: Person;
  senderType?: 'user' | 'app';
  messageType?: string;
  /** Mentions in the text as `@_user_N` keys, in order. */
  mentions?: { key: string; person: Person | { openId: string; unionId?: string; name: string } }[];
}

/** An im.message.receive_v1 envelope; `text` is the message as Feishu stores it (mentions as `@_user_N`). */
export function messageEnvelope(text: string, options: MessageOptions = {}) {
  const sender = options.sender ?? DANA;
  const chatType = options.chatType ?? 'group';
  return {
    schema: '2.0',
    header: header(
      'im.message.receive_v1',
      options.eventId ?? `ev_${randomUUID()}`,
      options.token ?? VERIFICATION_TOKEN,
    ),
    event: {
      sender: {
        sender_id: {
          open_id: sender.openId,
          union_id: sender.unionId,
          ...(sender.userId && { user_id: sender.userId }),
        },
        sender_type: options.senderType ?? 'user',
        tenant_key: TENANT_KEY,
      },
      message: {
        message_id: options.messageId ?? `om_${randomUUID().replace(/-/g, '')}`,
        create_time: String(Date.now()),
        chat_id: options.chatId ?? (chatType === 'group' ? 'oc_approvers' : 'oc_dm_dana'),
        chat_type: chatType,
        message_type: options.messageType ?? 'text',
        content: JSON.stringify({ text }),
        mentions: (options.mentions ?? []).map(({ key, person }) => ({
          key,
          id: { open_id: person.openId, ...(person.unionId && { union_id: person.unionId }) },
          name: person.name ?? key,
          tenant_key: TENANT_KEY,
        })),
      },
    },
  };
}

/** The bot mentioned as the first mention, as Feishu reports a group message starting with "@jitbot". */
export const BOT_MENTION = { key: '@_user_1', person: { openId: BOT_OPEN_ID, name: 'jitbot' } };

export interface CardActionOptions {
  eventId?: string;
  token?: string;
  /** The card callback's own token; null: the event carries none (only the header's Verification Token). */
  callbackToken?: string | null;
  operator?: Person;
  messageId?: string;
  chatId?: string;
  comment?: string;
  name?: string;
}

/** A card.action.trigger envelope for a click on one of the card's buttons. */
export function cardActionEnvelope(action: string, requestId: string, options: CardActionOptions = {}) {
  const operator = options.operator ?? ALICE;
  return {
    schema: '2.0',
    header: header('card.action.trigger', options.eventId ?? `ev_${randomUUID()}`, options.token ?? VERIFICATION_TOKEN),
    event: {
      operator: {
        tenant_key: TENANT_KEY,
        open_id: operator.openId,
        union_id: operator.unionId,
        ...(operator.userId && { user_id: operator.userId }),
      },
      ...(options.callbackToken !== null && {
        token: options.callbackToken ?? `c-${randomUUID().replace(/-/g, '')}`,
      }),
      action: {
        value: { action, requestId },
        tag: 'button',
        name: options.name ?? action,
        timezone: 'Asia/Shanghai',
        ...(options.comment !== undefined && { form_value: { comment: options.comment } }),
      },
      host: 'im_message',
      context: { open_message_id: options.messageId ?? 'om_card', open_chat_id: options.chatId ?? 'oc_approvers' },
    },
  };
}
