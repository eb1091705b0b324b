import type express from 'express';
import { BotConnectorTokenCheck } from '../../../adapters/teams/token-check';
import { mountTeamsMessages, TEAMS_MESSAGES_PATH, type TeamsHttpAnswer } from '../../../adapters/teams/messages-route';
import type { TeamsActivity } from '../../../adapters/teams/activities';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import {
  FAKE_APP_ID,
  FAKE_ISSUER,
  FAKE_TENANT_ID,
  FakeTeams,
  UNENDORSED_KID,
  messageActivity,
  cardActionActivity,
  type FakeMember,
} from '../../support/fake-teams';

// The messaging endpoint refuses, with 401 and before reading anything, whatever the Bot Connector did not sign
// for this bot; what it did sign reaches the adapter once, however often Teams resends it.

const alice: FakeMember = { id: '29:alice', aadObjectId: 'a11ce000-0000-0000-0000-000000000001', name: 'Alice', email: 'alice@example.com' };

let teams: FakeTeams;
let server: RunningHttpServer;
let received: TeamsActivity[];
let answerWith: (activity: TeamsActivity) => Promise<TeamsHttpAnswer>;
let endpoint: string;
let refusals: string[];

beforeAll(async () => {
  teams = new FakeTeams();
  await teams.start();
  const tokenCheck = new BotConnectorTokenCheck({ appId: FAKE_APP_ID, issuer: FAKE_ISSUER, openIdMetadataUrl: teams.openIdMetadataUrl });
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    mounts: [
      {
        mount: (app: express.Express) =>
          mountTeamsMessages(app, {
            tokenCheck,
            tenantId: FAKE_TENANT_ID,
            logger: { debug() {}, info() {}, warn: (fields: object) => void refusals.push(String((fields as { reason?: unknown }).reason)), error() {} },
            now: Date.now,
            receive: (activity) => {
              received.push(activity);
              return answerWith(activity);
            },
          }),
      },
    ],
  });
  endpoint = `${server.url}${TEAMS_MESSAGES_PATH}`;
});

afterAll(async () => {
  await server.close();
  await teams.stop();
});

beforeEach(() => {
  received = [];
  refusals = [];
  answerWith = async () => ({ status: 200 });
});

const command = () => messageActivity({ member: alice, serviceUrl: teams.serviceUrl }, 'web-prod-1 fix nginx for 2h');

test('a correctly signed activity is accepted and handed over', async () => {
  const response = await teams.deliver(endpoint, command());
  expect(response.status).toBe(200);
  expect(received).toHaveLength(1);
  expect(received[0]!.text).toBe('<at>jitbot</at> web-prod-1 fix nginx for 2h');
});

describe('refused with 401 and nothing handed over', () => {
  const cases: [string, () => Promise<string | null>, string][] = [
    ['no Authorization header (an unsigned activity)', async () => null, 'no bearer token'],
    ['a token signed by a key the metadata does not list', () => teams.sign({ key: teams.foreignKey }), 'signature verification failed'],
    ['a token for another bot (wrong audience)', () => teams.sign({ audience: '99999999-0000-0000-0000-000000000000' }), '"aud"'],
    ['a token from another issuer', () => teams.sign({ issuer: 'https://login.microsoftonline.com/evil/v2.0' }), '"iss"'],
    ['a token for another service URL (wrong serviceurl claim)', () => teams.sign({ serviceUrl: 'https://smba.trafficmanager.net/emea/' }), 'serviceurl claim'],
    ['an expired token (beyond the 5 minutes of skew)', () => teams.sign({ expiresIn: -600 }), '"exp"'],
    ['a token whose key is not endorsed for msteams', () => teams.sign({ kid: UNENDORSED_KID }), 'not endorsed for msteams'],
    ['a token with an unsigned header (alg none)', async () => unsignedToken(), 'algorithm none'],
    ['a garbage bearer', async () => 'not-a-jwt', 'unreadable token'],
  ];
  test.each(cases)('%s', async (_name, token, reason) => {
    const response = await teams.deliver(endpoint, command(), await token());
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'unauthorized' });
    expect(received).toHaveLength(0);
    expect(refusals.join('\n')).toContain(reason);
  });

  test('an RS384 token (only RS256 is accepted)', async () => {
    const response = await teams.deliver(endpoint, command(), await teams.sign({ alg: 'RS384' }));
    expect(response.status).toBe(401);
    expect(received).toHaveLength(0);
  });

  test('a valid token replayed with an activity naming another service URL', async () => {
    const token = await teams.sign();
    const activity = { ...command(), serviceUrl: 'https://attacker.example/connector/' };
    const response = await teams.deliver(endpoint, activity, token);
    expect(response.status).toBe(401);
    expect(received).toHaveLength(0);
  });

  test('an activity claiming another channel than msteams', async () => {
    const response = await teams.deliver(endpoint, { ...command(), channelId: 'webchat' });
    expect(response.status).toBe(401);
    expect(received).toHaveLength(0);
  });
});

test('a signed activity from another tenant is acknowledged and ignored', async () => {
  const activity = messageActivity({ member: alice, serviceUrl: teams.serviceUrl, tenantId: '00000000-0000-0000-0000-000000000bad' }, 'web-1 x');
  const response = await teams.deliver(endpoint, activity);
  expect(response.status).toBe(200);
  expect(received).toHaveLength(0);
});

test('a resent invoke waits for the first delivery and gets the same answer; it is handled once', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  answerWith = async () => {
    await gate;
    return { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'done' } };
  };
  const click = cardActionActivity({ member: alice, serviceUrl: teams.serviceUrl }, { verb: 'approve', requestId: 'JIT-7K3Q2' });
  const first = teams.deliver(endpoint, click);
  const resend = teams.deliver(endpoint, click);
  await waitFor(() => received.length === 1);
  release();
  const answers = await Promise.all([first, resend]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(answers[0]!.body).toEqual(answers[1]!.body);
  expect(received).toHaveLength(1);

  // Later resends (Teams' second retry) still get the remembered answer.
  const late = await teams.deliver(endpoint, click);
  expect(late.body).toEqual(answers[0]!.body);
  expect(received).toHaveLength(1);
});

test('a delivery whose handling failed is handled again when resent', async () => {
  answerWith = async () => {
    throw new Error('store unavailable');
  };
  const click = cardActionActivity({ member: alice, serviceUrl: teams.serviceUrl }, { verb: 'approve', requestId: 'JIT-7K3Q2' });
  expect((await teams.deliver(endpoint, click)).status).toBe(500);
  answerWith = async () => ({ status: 200 });
  expect((await teams.deliver(endpoint, click)).status).toBe(200);
  expect(received).toHaveLength(2);
});

test('the keys are read once and reused', async () => {
  const before = teams.metadataFetches;
  await teams.deliver(endpoint, command());
  await teams.deliver(endpoint, command());
  expect(teams.metadataFetches).toBe(before);
});

function unsignedToken(): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: FAKE_ISSUER, aud: FAKE_APP_ID, exp: now + 600, serviceurl: teams.serviceUrl })}.`;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met');
}
