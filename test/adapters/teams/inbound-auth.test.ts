import type { Reply } from '../../../src/ports/chat';
import {
  FAKE_APP_ID,
  FAKE_ISSUER,
  UNENDORSED_KID,
  cardActionActivity,
  messageActivity,
  type FakeMember,
} from '../../support/fake-teams';
import { startTeamsRig, type TeamsRig } from './teams-setup';

// The messaging endpoint refuses, with 401 and before reading anything, whatever the Bot Connector did not sign
// for this bot; what it did sign reaches the core once, however often Teams resends it.

const alice: FakeMember = {
  id: '29:alice',
  aadObjectId: 'a11ce000-0000-0000-0000-000000000001',
  name: 'Alice',
  email: 'alice@example.com',
};

let rig: TeamsRig;
let teams: TeamsRig['teams'];
let endpoint: string;
const received = () => rig.events;
const refusals = () => rig.logs.filter((l) => l.msg.includes('refused')).map((l) => String(l.fields.reason));

beforeAll(async () => {
  rig = await startTeamsRig();
  teams = rig.teams;
  endpoint = rig.endpoint;
  teams.addMember(alice);
});

afterAll(async () => {
  await rig.close();
});

beforeEach(async () => {
  await rig.adapter.idle();
  rig.events.length = 0;
  rig.logs.length = 0;
  teams.connectorCalls.length = 0;
  rig.answer = async () => ({ kind: 'info', text: 'noted' });
});

const command = () => messageActivity({ member: alice, serviceUrl: teams.serviceUrl }, 'web-prod-1 fix nginx for 2h');

test('a correctly signed command is accepted (200 at once) and reaches the core as a neutral event', async () => {
  const response = await teams.deliver(endpoint, command());
  expect(response.status).toBe(200);
  await rig.adapter.idle();
  expect(received()).toHaveLength(1);
  expect(received()[0]).toMatchObject({ kind: 'command', platform: 'teams', text: 'web-prod-1 fix nginx for 2h' });
});

describe('refused with 401 and nothing handed over', () => {
  const cases: [string, () => Promise<string | null>, string][] = [
    ['no Authorization header (an unsigned activity)', async () => null, 'no bearer token'],
    [
      'a token signed by a key the metadata does not list',
      () => teams.sign({ key: teams.foreignKey }),
      'signature verification failed',
    ],
    [
      'a token for another bot (wrong audience)',
      () => teams.sign({ audience: '99999999-0000-0000-0000-000000000000' }),
      '"aud"',
    ],
    [
      'a token from another issuer',
      () => teams.sign({ issuer: 'https://login.microsoftonline.com/evil/v2.0' }),
      '"iss"',
    ],
    [
      'a token for another service URL (wrong serviceurl claim)',
      () => teams.sign({ serviceUrl: 'https://smba.trafficmanager.net/emea/' }),
      'serviceurl claim',
    ],
    ['an expired token (beyond the 5 minutes of skew)', () => teams.sign({ expiresIn: -600 }), '"exp"'],
    [
      'a token whose key is not endorsed for msteams',
      () => teams.sign({ kid: UNENDORSED_KID }),
      'not endorsed for msteams',
    ],
    ['a token with an unsigned header (alg none)', async () => unsignedToken(), 'algorithm none'],
    ['a garbage bearer', async () => 'not-a-jwt', 'unreadable token'],
    ['an RS384 token (only RS256 is accepted)', () => teams.sign({ alg: 'RS384' }), 'algorithm RS384'],
  ];
  test.each(cases)('%s', async (_name, token, reason) => {
    for (const activity of [command(), click()]) {
      const response = await teams.deliver(endpoint, activity, await token());
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'unauthorized' });
    }
    await rig.adapter.idle();
    expect(received()).toHaveLength(0);
    expect(teams.connectorCalls).toHaveLength(0);
    expect(refusals().join('\n')).toContain(reason);
  });

  test('a valid token replayed with an activity naming another service URL', async () => {
    const token = await teams.sign();
    const response = await teams.deliver(
      endpoint,
      { ...command(), serviceUrl: 'https://attacker.example/connector/' },
      token,
    );
    expect(response.status).toBe(401);
    await rig.adapter.idle();
    expect(received()).toHaveLength(0);
  });

  test('an activity claiming another channel than msteams', async () => {
    const response = await teams.deliver(endpoint, { ...command(), channelId: 'webchat' });
    expect(response.status).toBe(401);
    await rig.adapter.idle();
    expect(received()).toHaveLength(0);
  });
});

test('a signed activity from another tenant is acknowledged and ignored', async () => {
  const activity = messageActivity(
    { member: alice, serviceUrl: teams.serviceUrl, tenantId: '00000000-0000-0000-0000-000000000bad' },
    'web-1 x',
  );
  const response = await teams.deliver(endpoint, activity);
  expect(response.status).toBe(200);
  await rig.adapter.idle();
  expect(received()).toHaveLength(0);
});

test('a resent invoke joins the first delivery and gets the same answer; the core sees it once', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  rig.answer = async (): Promise<Reply> => {
    await gate;
    return { kind: 'error', text: 'JIT-7K3Q2 was already approved by Bob' };
  };
  const activity = click();
  const first = teams.deliver(endpoint, activity);
  await waitFor(() => received().length === 1);
  const resend = teams.deliver(endpoint, activity);
  await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  const answers = await Promise.all([first, resend]);
  expect(answers.map((a) => a.status)).toEqual([200, 200]);
  expect(answers[0]!.body).toEqual({
    statusCode: 200,
    type: 'application/vnd.microsoft.activity.message',
    value: 'JIT-7K3Q2 was already approved by Bob',
  });
  expect(answers[1]!.body).toEqual(answers[0]!.body);

  // Teams' later retry gets the remembered answer, not a second decision.
  const late = await teams.deliver(endpoint, activity);
  expect(late.body).toEqual(answers[0]!.body);
  expect(received()).toHaveLength(1);
});

test('a click whose handling failed is handled again when resent', async () => {
  rig.answer = async () => {
    throw new Error('store unavailable');
  };
  const activity = click();
  const failed = await teams.deliver(endpoint, activity);
  expect(failed.status).toBe(200);
  expect(failed.body).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
  rig.answer = async () => ({ kind: 'info', text: 'Approved' });
  const retried = await teams.deliver(endpoint, activity);
  expect(retried.body).toMatchObject({ value: 'Approved' });
  expect(received()).toHaveLength(2);
});

test('the keys are read once and reused', async () => {
  const before = teams.metadataFetches;
  await teams.deliver(endpoint, command());
  await teams.deliver(endpoint, command());
  expect(teams.metadataFetches).toBe(before);
});

function click() {
  return cardActionActivity(
    { member: alice, serviceUrl: teams.serviceUrl },
    { verb: 'approve', requestId: 'JIT-7K3Q2', cardActivityId: '1700000000001' },
  );
}

function unsignedToken(): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ iss: FAKE_ISSUER, aud: FAKE_APP_ID, exp: now + 600, serviceurl: teams.serviceUrl })}.`;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not met');
}
