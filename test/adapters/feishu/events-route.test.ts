import { checkFeishuCallback, decryptEnvelope } from '../../../adapters/feishu/callback-verification';
import { FEISHU_EVENTS_PATH, mountFeishuEvents } from '../../../adapters/feishu/events-route';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import {
  cardActionEnvelope,
  encrypt,
  encryptedBody,
  ENCRYPT_KEY,
  messageEnvelope,
  signatureHeaders,
  VERIFICATION_TOKEN,
} from './feishu-requests';

// The HTTP callback URL over real HTTP: signed and encrypted requests as Feishu sends them. Only a request that
// passes every check reaches `receive`; anything else gets 401 and reaches nothing.

let server: RunningHttpServer;
let received: Record<string, unknown>[];
let now: number;

beforeEach(async () => {
  received = [];
  now = Date.now();
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    mounts: [
      {
        mount: (app) =>
          mountFeishuEvents(app, {
            encryptKey: ENCRYPT_KEY,
            verificationToken: VERIFICATION_TOKEN,
            now: () => now,
            logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
            receive: async (envelope) => {
              received.push(envelope);
              return (envelope.header as { event_type?: string }).event_type === 'card.action.trigger'
                ? { toast: { type: 'success', content: 'ok' } }
                : undefined;
            },
          }),
      },
    ],
  });
});

afterEach(() => server.close());

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const response = await fetch(server.url + FEISHU_EVENTS_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, json: await response.json() };
}

test('url_verification: answered with the challenge (encrypted, unsigned, our token)', async () => {
  const body = encryptedBody({ challenge: 'ch-123', token: VERIFICATION_TOKEN, type: 'url_verification' });
  expect(await post(body, {})).toEqual({ status: 200, json: { challenge: 'ch-123' } });
  expect(received).toEqual([]);
});

test('url_verification with another token, or encrypted with another key, is refused', async () => {
  expect((await post(encryptedBody({ challenge: 'x', token: 'other', type: 'url_verification' }), {})).status).toBe(
    401,
  );
  expect(
    (
      await post(
        encryptedBody({ challenge: 'x', token: VERIFICATION_TOKEN, type: 'url_verification' }, 'other-key'),
        {},
      )
    ).status,
  ).toBe(401);
});

test('a signed, encrypted event reaches receive decrypted; a card callback gets its answer in the response', async () => {
  const event = messageEnvelope('@_user_1 web-1 fix nginx');
  const body = encryptedBody(event);
  expect(await post(body, signatureHeaders(body))).toEqual({ status: 200, json: {} });

  const click = cardActionEnvelope('approve', 'JIT-7K3Q2', { comment: 'ok' });
  const clickBody = encryptedBody(click);
  expect(await post(clickBody, signatureHeaders(clickBody))).toEqual({
    status: 200,
    json: { toast: { type: 'success', content: 'ok' } },
  });
  expect(received).toEqual([event, click]);
});

test('a bad signature, a stale or future timestamp, missing headers, a wrong token or a plain body: 401, nothing received', async () => {
  const body = encryptedBody(messageEnvelope('@_user_1 web-1 fix nginx'));
  const nowSeconds = Math.floor(now / 1000);
  const refused = [
    await post(body, signatureHeaders(body, { encryptKey: 'wrong-key' })),
    await post(body, { ...signatureHeaders(body), 'x-lark-signature': 'f'.repeat(64) }),
    await post(body, signatureHeaders(body, { timestamp: nowSeconds - 301 })),
    await post(body, signatureHeaders(body, { timestamp: nowSeconds + 301 })),
    await post(body, {}),
    await post(body, { 'x-lark-signature': signatureHeaders(body)['x-lark-signature']! }),
    // The signature covers the exact bytes: re-serialising (here, adding a space) breaks it.
    await post(body.replace('{', '{ '), signatureHeaders(body)),
  ];
  const wrongToken = encryptedBody(messageEnvelope('@_user_1 x', { token: 'not-our-token' }));
  refused.push(await post(wrongToken, signatureHeaders(wrongToken)));
  const plain = JSON.stringify(messageEnvelope('@_user_1 x'));
  refused.push(await post(plain, signatureHeaders(plain)));

  expect(refused.map((r) => r.status)).toEqual(Array(refused.length).fill(401));
  expect(refused.map((r) => r.json)).toEqual(Array(refused.length).fill({ error: 'invalid request' }));
  expect(received).toEqual([]);
});

test('within the five-minute window a signed request is accepted', async () => {
  const body = encryptedBody(messageEnvelope('@_user_1 web-1 fix nginx'));
  expect((await post(body, signatureHeaders(body, { timestamp: Math.floor(now / 1000) - 299 }))).status).toBe(200);
  expect(received).toHaveLength(1);
});

test('checkFeishuCallback refuses when a secret is missing, and names each refusal', () => {
  const body = encryptedBody(messageEnvelope('x'));
  const request = (headers: Record<string, string>, raw = body) => ({
    rawBody: Buffer.from(raw),
    timestamp: headers['x-lark-request-timestamp'],
    nonce: headers['x-lark-request-nonce'],
    signature: headers['x-lark-signature'],
  });
  const secrets = { encryptKey: ENCRYPT_KEY, verificationToken: VERIFICATION_TOKEN };
  expect(checkFeishuCallback(request(signatureHeaders(body)), { ...secrets, encryptKey: '' }, Date.now())).toEqual({
    ok: false,
    reason: 'no_secret',
  });
  expect(
    checkFeishuCallback(request(signatureHeaders(body)), { ...secrets, verificationToken: '' }, Date.now()),
  ).toEqual({ ok: false, reason: 'no_secret' });
  expect(checkFeishuCallback(request(signatureHeaders(body, { timestamp: 1 })), secrets, Date.now())).toEqual({
    ok: false,
    reason: 'stale_timestamp',
  });
  const garbage = JSON.stringify({ encrypt: 'bm90IGVuY3J5cHRlZCBhdCBhbGwgYnV0IGxvbmcgZW5vdWdoIQ==' });
  expect(checkFeishuCallback(request(signatureHeaders(garbage), garbage), secrets, Date.now())).toEqual({
    ok: false,
    reason: 'undecryptable',
  });
  expect(decryptEnvelope(encrypt({ a: 1 }), ENCRYPT_KEY)).toEqual({ a: 1 });
  expect(decryptEnvelope(encrypt({ a: 1 }), 'other')).toBeUndefined();
});
