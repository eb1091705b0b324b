import { DINGTALK_EVENTS_PATH, mountDingTalkEvents } from '../../../adapters/dingtalk/events-route';
import { checkDingTalkSignature, dingTalkSign } from '../../../adapters/dingtalk/request-signature';
import { silentLogger } from '../../../src/http/middleware';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import { FAKE_CLIENT_SECRET } from '../../support/fake-dingtalk';
import { robotMessage } from './dingtalk-payloads';

// HTTP mode: robot messages POSTed to /dingtalk/events with DingTalk's `timestamp` and `sign` headers.

const HOUR = 3_600_000;
let server: RunningHttpServer;
let now: number;
let received: unknown[];
let failNext: boolean;

beforeEach(async () => {
  now = Date.UTC(2026, 11, 2, 12, 0, 0);
  received = [];
  failNext = false;
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    mounts: [
      {
        mount: (app) =>
          mountDingTalkEvents(app, {
            appSecret: FAKE_CLIENT_SECRET,
            now: () => now,
            logger: silentLogger,
            receive: async (body) => {
              if (failNext) {
                failNext = false;
                throw new Error('store unavailable');
              }
              received.push(body);
            },
          }),
      },
    ],
  });
});

afterEach(async () => {
  await server.close();
});

function post(body: unknown, headers: { timestamp?: string; sign?: string } = {}): Promise<Response> {
  const timestamp = headers.timestamp ?? String(now);
  return fetch(server.url + DINGTALK_EVENTS_PATH, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      timestamp,
      sign: headers.sign ?? dingTalkSign(timestamp, FAKE_CLIENT_SECRET),
    },
    body: JSON.stringify(body),
  });
}

test('the signature is base64 HMAC-SHA256 over "timestamp\\nsecret", keyed by the app secret', () => {
  // Worked example, computed independently: printf '1700000000000\nsecret' | openssl dgst -sha256 -hmac secret -binary | base64
  expect(dingTalkSign('1700000000000', 'secret')).toBe('OuzzJR5+xZ4/EYwqtNt6sMYZQMTa/HEGvc9miJe7XzY=');
  expect(
    checkDingTalkSignature(
      { timestamp: '1700000000000', sign: dingTalkSign('1700000000000', 'secret') },
      'secret',
      1700000000000 + HOUR,
    ),
  ).toEqual({ ok: true });
});

test('a correctly signed message is handed over and answered 200', async () => {
  const message = robotMessage({ text: 'web-prod-1 fix nginx for 2h', group: 'cidOps' });
  const response = await post(message);
  expect(response.status).toBe(200);
  expect(received).toEqual([message]);
});

test.each([
  ['a wrong signature', { sign: dingTalkSign(String(Date.UTC(2026, 11, 2, 12)), 'other-secret') }],
  ['no signature', { sign: '' }],
  ['a timestamp more than an hour old', { timestamp: String(Date.UTC(2026, 11, 2, 12) - HOUR - 1) }],
  ['a timestamp more than an hour ahead', { timestamp: String(Date.UTC(2026, 11, 2, 12) + HOUR + 1) }],
  ['a timestamp in seconds', { timestamp: String(Date.UTC(2026, 11, 2, 12) / 1000) }],
])('%s → 401 and nothing handed over', async (_what, headers) => {
  const response = await post(robotMessage({ text: 'web-1 x' }), headers);
  expect(response.status).toBe(401);
  expect(received).toEqual([]);
});

test('within the hour either side, the timestamp is accepted', async () => {
  expect((await post(robotMessage({ text: 'a' }), { timestamp: String(now - HOUR) })).status).toBe(200);
  expect((await post(robotMessage({ text: 'b' }), { timestamp: String(now + HOUR) })).status).toBe(200);
});

test('a signed header pair is used once: replaying it with another body is refused', async () => {
  const timestamp = String(now - 1000);
  const sign = dingTalkSign(timestamp, FAKE_CLIENT_SECRET);
  expect((await post(robotMessage({ text: 'web-1 fix', userId: 'dev1' }), { timestamp, sign })).status).toBe(200);
  const forged = robotMessage({ text: 'approve JIT-7K3Q2', userId: 'boss', group: 'cidOps' });
  expect((await post(forged, { timestamp, sign })).status).toBe(401);
  expect(received).toHaveLength(1);
});

test('a message that could not be handled is answered 500 and may come again with the same signature', async () => {
  const timestamp = String(now);
  const message = robotMessage({ text: 'web-1 fix' });
  failNext = true;
  expect((await post(message, { timestamp })).status).toBe(500);
  expect((await post(message, { timestamp })).status).toBe(200);
  expect(received).toEqual([message]);
});

test('a signed body that is not JSON is refused with 400', async () => {
  const timestamp = String(now);
  const response = await fetch(server.url + DINGTALK_EVENTS_PATH, {
    method: 'POST',
    headers: { timestamp, sign: dingTalkSign(timestamp, FAKE_CLIENT_SECRET) },
    body: '{nope',
  });
  expect(response.status).toBe(400);
  expect(received).toEqual([]);
});
