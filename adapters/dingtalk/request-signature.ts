import { createHmac, timingSafeEqual } from 'node:crypto';

// HTTP mode: DingTalk signs each robot callback with headers `timestamp` (epoch ms) and
// `sign` = base64(HMAC-SHA256(key = app secret, message = timestamp + "\n" + app secret)), and the receiver must
// reject timestamps more than an hour away. The signature covers the timestamp only, never the body: see
// docs/dingtalk.md ("HTTP mode and replays") for what that allows and what jitbot does about it.

export const MAX_TIMESTAMP_SKEW_MS = 60 * 60 * 1000;

export type SignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'no_secret' | 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

export function dingTalkSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

export function checkDingTalkSignature(
  headers: { timestamp: string | undefined; sign: string | undefined },
  appSecret: string,
  nowMs: number,
  maxSkewMs = MAX_TIMESTAMP_SKEW_MS,
): SignatureCheck {
  if (!appSecret) return { ok: false, reason: 'no_secret' };
  const { timestamp, sign } = headers;
  if (timestamp === undefined || sign === undefined || !/^\d{10,16}$/.test(timestamp))
    return { ok: false, reason: 'missing_headers' };
  if (Math.abs(nowMs - Number(timestamp)) > maxSkewMs) return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(dingTalkSign(timestamp, appSecret), 'base64');
  const given = /^[A-Za-z0-9+/]+={0,2}$/.test(sign) ? Buffer.from(sign, 'base64') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
