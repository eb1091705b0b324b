import { BotConnectorTokenCheck } from '../../../adapters/teams/token-check';
import { FAKE_APP_ID, FAKE_ISSUER, FakeTeams } from '../../support/fake-teams';

// The signing keys are re-read daily. An outage of the key endpoint at that moment must not refuse every
// request while the keys read before are still held: they stay in use, and the read is retried a minute later.

const HOUR = 60 * 60_000;

let teams: FakeTeams;
let clock: number;
let warnings: string[];
let check: BotConnectorTokenCheck;

beforeEach(async () => {
  teams = new FakeTeams();
  await teams.start();
  clock = Date.now();
  warnings = [];
  check = new BotConnectorTokenCheck({
    appId: FAKE_APP_ID,
    issuer: FAKE_ISSUER,
    openIdMetadataUrl: teams.openIdMetadataUrl,
    now: () => clock,
    logger: { warn: (_fields, message) => void warnings.push(message) },
  });
});

afterEach(async () => {
  await teams.stop();
});

const activity = () => ({ serviceUrl: teams.serviceUrl, channelId: 'msteams' });
const checkNow = async (options: { kid?: string } = {}) =>
  check.check(`Bearer ${await teams.sign({ at: clock, ...options })}`, activity());

test('a failed daily refresh keeps the keys held, warns, and is retried a minute later, not on every request', async () => {
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(1);

  teams.metadataDown = true;
  clock += 25 * HOUR;
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(2);
  expect(warnings.join('\n')).toContain('could not re-read the Bot Connector signing keys');

  // Within the minute: no new attempt, still accepted.
  clock += 30_000;
  expect(await checkNow()).toEqual({ ok: true });
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(2);

  // A minute on: tried again (still down, still accepted).
  clock += 40_000;
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(3);

  // Back up: the next retry succeeds, and then the keys are fresh for a day.
  teams.metadataDown = false;
  clock += 61_000;
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(4);
  clock += HOUR;
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(4);
});

test('with no keys held yet, a failed read refuses the request', async () => {
  teams.metadataDown = true;
  const result = await checkNow();
  expect(result).toMatchObject({ ok: false });
  expect(result.ok === false && result.reason).toContain('could not read the signing keys');
});

test('an unknown key id re-reads the keys, at most every five minutes', async () => {
  expect(await checkNow()).toEqual({ ok: true });
  expect(teams.metadataFetches).toBe(1);
  clock += 6 * 60_000;
  expect(await checkNow({ kid: 'rotated-key' })).toEqual({ ok: false, reason: 'unknown signing key' });
  expect(teams.metadataFetches).toBe(2);
  clock += 60_000;
  expect(await checkNow({ kid: 'rotated-key' })).toEqual({ ok: false, reason: 'unknown signing key' });
  expect(teams.metadataFetches).toBe(2);
  // A failed re-read for an unknown key id still leaves the known keys working.
  teams.metadataDown = true;
  clock += 6 * 60_000;
  expect(await checkNow({ kid: 'rotated-key' })).toEqual({ ok: false, reason: 'unknown signing key' });
  expect(teams.metadataFetches).toBe(3);
  expect(await checkNow()).toEqual({ ok: true });
});
