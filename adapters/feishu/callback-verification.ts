import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

// Feishu/Lark HTTP callbacks (events and card callbacks alike), checked on the raw bytes before anything is
// parsed or stored. The SDK's own check hashes re-serialised JSON, skips the check without an Encrypt Key, never
// compares the verification token and has no timestamp window, so jitbot does all of it here:
//   X-Lark-Signature = hex(sha256(timestamp + nonce + encryptKey + raw body)), timestamp within 5 minutes;
//   body = {"encrypt": base64(iv[16] || AES-256-CBC(key = sha256(encryptKey), iv, JSON))};
//   the decrypted envelope's verification token (header.token, or token in v1 and url_verification).
// The url_verification challenge arrives encrypted but unsigned: it is accepted only when it decrypts with our
// key and carries our verification token, and it is answered with the challenge and nothing else.

export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface CallbackSecrets {
  encryptKey: string;
  verificationToken: string;
}

export interface SignedCallback {
  rawBody: Buffer;
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

export type CallbackRefusal =
  | 'no_secret'
  | 'missing_headers'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'not_encrypted'
  | 'undecryptable'
  | 'bad_token';

export type CallbackCheck =
  | { ok: true; kind: 'challenge'; challenge: string }
  | { ok: true; kind: 'envelope'; envelope: Record<string, unknown> }
  | { ok: false; reason: CallbackRefusal };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function checkFeishuCallback(request: SignedCallback, secrets: CallbackSecrets, nowMs: number): CallbackCheck {
  if (!secrets.encryptKey || !secrets.verificationToken) return { ok: false, reason: 'no_secret' };
  const { timestamp, nonce, signature } = request;
  const signed = timestamp !== undefined || nonce !== undefined || signature !== undefined;

  if (signed) {
    if (timestamp === undefined || nonce === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) {
      return { ok: false, reason: 'missing_headers' };
    }
    if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS)
      return { ok: false, reason: 'stale_timestamp' };
    if (!/^[0-9a-f]{64}$/i.test(signature)) return { ok: false, reason: 'bad_signature' };
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from(timestamp + nonce + secrets.encryptKey, 'utf8'), request.rawBody]))
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return { ok: false, reason: 'bad_signature' };
  }

  const encrypted = encryptedField(request.rawBody);
  if (encrypted === undefined) return { ok: false, reason: 'not_encrypted' };
  const envelope = decryptEnvelope(encrypted, secrets.encryptKey);
  if (!envelope) return { ok: false, reason: 'undecryptable' };
  if (!sameSecret(envelopeToken(envelope), secrets.verificationToken)) return { ok: false, reason: 'bad_token' };

  if (envelope.type === 'url_verification') {
    return typeof envelope.challenge === 'string'
      ? { ok: true, kind: 'challenge', challenge: envelope.challenge }
      : { ok: false, reason: 'undecryptable' };
  }
  // Only the challenge may come unsigned; every event and card callback must carry a valid signature.
  if (!signed) return { ok: false, reason: 'missing_headers' };
  return { ok: true, kind: 'envelope', envelope };
}

/** AES-256-CBC with key sha256(encryptKey); the first 16 bytes of the decoded text are the IV. */
export function decryptEnvelope(encrypted: string, encryptKey: string): Record<string, unknown> | undefined {
  try {
    const bytes = Buffer.from(encrypted, 'base64');
    if (bytes.length < 32 || bytes.length % 16 !== 0) return undefined;
    const key = createHash('sha256').update(encryptKey, 'utf8').digest();
    const decipher = createDecipheriv('aes-256-cbc', key, bytes.subarray(0, 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]);
    const parsed: unknown = JSON.parse(strictUtf8.decode(plain));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function encryptedField(rawBody: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(strictUtf8.decode(rawBody)) as { encrypt?: unknown } | null;
    return parsed !== null && typeof parsed === 'object' && typeof parsed.encrypt === 'string'
      ? parsed.encrypt
      : undefined;
  } catch {
    return undefined;
  }
}

/** Schema 2.0 envelopes carry the token in `header.token`; v1 events and url_verification at the top. */
function envelopeToken(envelope: Record<string, unknown>): unknown {
  const header = envelope.header as { token?: unknown } | undefined;
  return envelope.schema !== undefined && header && typeof header === 'object' ? header.token : envelope.token;
}

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
