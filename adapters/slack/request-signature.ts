import { verifySlackRequest } from '@slack/bolt';

// Slack signs every HTTP request: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret,
// "v0:" + X-Slack-Request-Timestamp + ":" + raw body)). Bolt's helper does the HMAC and the timing-safe
// comparison; around it we fail closed on anything missing or malformed, and reject timestamps more than five
// minutes away on either side (Bolt only rejects old ones).

export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export type SignatureCheck =
  | { ok: true; body: string }
  | { ok: false; reason: 'no_secret' | 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

export interface SignedRequest {
  rawBody: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** On success returns the body as text: exactly the bytes that were signed. */
export function checkSlackSignature(request: SignedRequest, signingSecret: string, nowMs: number): SignatureCheck {
  if (!signingSecret) return { ok: false, reason: 'no_secret' };
  const { timestamp, signature } = request;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'missing_headers' };
  }
  const timestampSeconds = Number(timestamp);
  if (Math.abs(Math.floor(nowMs / 1000) - timestampSeconds) > MAX_CLOCK_SKEW_SECONDS) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'bad_signature' };

  // Bolt hashes a string; decoding strictly means that string is byte for byte what was signed.
  let body: string;
  try {
    body = strictUtf8.decode(request.rawBody);
  } catch {
    return { ok: false, reason: 'bad_signature' };
  }
  try {
    verifySlackRequest({
      signingSecret,
      body,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestampSeconds },
      nowMilliseconds: nowMs,
    });
  } catch {
    return { ok: false, reason: 'bad_signature' };
  }
  return { ok: true, body };
}
