import { TEAMS_MESSAGES_PATH, TeamsAdapter } from '../../../adapters/teams/teams-adapter';
import { startHttpServer } from '../../../src/http/server';
import type { AdapterRecords } from '../../../src/ports/adapter-module';
import { adapterRecords } from '../../../src/services/adapter-records';
import { openStore } from '../../../src/store/open-store';
import {
  APPROVERS_CHANNEL,
  BOT_ACCOUNT_ID,
  cardActionActivity,
  messageActivity,
  type FakeMember,
  type FakeTeams,
} from '../../support/fake-teams';
import { fakeSettings, startTeamsRig, type TeamsRig } from './teams-setup';

// The ids needed to reach a person on Teams are kept in the adapter's records: a DM to someone seen before a
// restart works after it (e.g. an admin told of an IAM failure, who has not written to the bot since).

const erin: FakeMember = {
  id: '29:erin',
  aadObjectId: 'E7170000-0000-0000-0000-00000000000E',
  name: 'Erin Admin',
  email: 'erin@example.com',
};
const erinRef = { platform: 'teams' as const, userId: erin.aadObjectId.toLowerCase(), displayName: 'Erin' };
const erinKey = `person:${erin.aadObjectId.toLowerCase()}`;
const OTHER_CHANNEL = '19:other0123@thread.tacv2';

/** The store's records for Teams, counting writes and failing them (or reads) on demand. */
interface WatchedRecords extends AdapterRecords {
  puts: string[];
  failPuts: boolean;
  failGets: boolean;
}

async function watchedRecords(): Promise<{ records: WatchedRecords; close(): Promise<void> }> {
  const { store, close } = await openStore({ embedded: { inMemory: true } });
  const inner = adapterRecords(store, 'teams');
  const records: WatchedRecords = {
    ...inner,
    puts: [],
    failPuts: false,
    failGets: false,
    async get(key) {
      if (records.failGets) throw new Error('store unavailable');
      return inner.get(key);
    },
    async put(key, value, order) {
      records.puts.push(key);
      if (records.failPuts) throw new Error('store unavailable');
      await inner.put(key, value, order);
    },
  };
  return { records, close };
}

async function restartedAdapter(teams: FakeTeams, records: AdapterRecords): Promise<TeamsAdapter> {
  const adapter = new TeamsAdapter(fakeSettings(teams), { records });
  await adapter.start(async () => ({ kind: 'info', text: 'noted' }), { locale: 'en' });
  return adapter;
}

let rig: TeamsRig;
let watched: Awaited<ReturnType<typeof watchedRecords>>;

beforeEach(async () => {
  watched = await watchedRecords();
  rig = await startTeamsRig({ records: watched.records });
  rig.teams.addMember(erin);
});

afterEach(async () => {
  await rig.close();
  await watched.close();
});

test('a person who clicked a card before a restart is DMed after it, in their 1:1 chat, with no conversation given', async () => {
  // A click is answered in the HTTP response: no 1:1 chat is opened, only the ids in the activity are known.
  const activity = cardActionActivity(
    { member: erin, serviceUrl: rig.teams.serviceUrl },
    { verb: 'approve', requestId: 'JIT-7K3Q2' },
  );
  expect((await rig.teams.deliver(rig.endpoint, activity)).status).toBe(200);
  await rig.adapter.idle();
  await rig.adapter.stop();

  const restarted = await restartedAdapter(rig.teams, watched.records);
  try {
    rig.teams.connectorCalls.length = 0;
    await restarted.notifyUser(erinRef, 'The IAM role could not be updated');
    const chat = rig.teams.personalChats.get(erin.id)!;
    expect(rig.teams.connectorCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v3/conversations',
      `POST /v3/conversations/${chat}/activities`,
    ]);
    expect(rig.teams.postedIn(chat).map((a) => a.text)).toEqual(['The IAM role could not be updated']);
    await restarted.idle();
    // Ids only: no name or email is kept.
    expect(await watched.records.get(erinKey)).toEqual({
      fromId: '29:erin',
      conversationId: APPROVERS_CHANNEL,
      personalChat: chat,
    });

    // The opened 1:1 chat is kept too: the next restart posts in it straight away.
    await restarted.stop();
    const again = await restartedAdapter(rig.teams, watched.records);
    rig.teams.connectorCalls.length = 0;
    await again.notifyUser({ ...erinRef, userId: erin.aadObjectId }, 'Still failing');
    expect(rig.teams.connectorCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /v3/conversations/${chat}/activities`,
    ]);
    await again.stop();
  } finally {
    await restarted.stop();
  }
});

test("a message in the bot's 1:1 chat keeps that chat: after a restart the DM goes there without opening one", async () => {
  const PERSONAL = 'a:erin-personal-chat';
  rig.teams.personalChats.set(erin.id, PERSONAL);
  const activity = messageActivity(
    { member: erin, serviceUrl: rig.teams.serviceUrl, conversationId: PERSONAL, conversationType: 'personal' },
    'help',
  );
  expect((await rig.teams.deliver(rig.endpoint, activity)).status).toBe(200);
  await rig.adapter.idle();
  await rig.adapter.stop();

  const restarted = await restartedAdapter(rig.teams, watched.records);
  try {
    rig.teams.connectorCalls.length = 0;
    await restarted.notifyUser(erinRef, 'Your request was approved');
    expect(rig.teams.connectorCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /v3/conversations/${PERSONAL}/activities`,
    ]);
  } finally {
    await restarted.stop();
  }
});

test('the app installed for a person (the bot added to their 1:1 chat) is enough to DM them after a restart', async () => {
  const PERSONAL = 'a:erin-installed';
  rig.teams.personalChats.set(erin.id, PERSONAL);
  const installed = {
    ...messageActivity(
      { member: erin, serviceUrl: rig.teams.serviceUrl, conversationId: PERSONAL, conversationType: 'personal' },
      '',
    ),
    type: 'conversationUpdate',
    membersAdded: [{ id: BOT_ACCOUNT_ID }],
  };
  expect((await rig.teams.deliver(rig.endpoint, installed)).status).toBe(200);
  await rig.adapter.idle();
  expect(rig.events).toHaveLength(0);
  await rig.adapter.stop();

  const restarted = await restartedAdapter(rig.teams, watched.records);
  try {
    rig.teams.connectorCalls.length = 0;
    await restarted.notifyUser(erinRef, 'The IAM role could not be updated');
    expect(rig.teams.postedIn(PERSONAL).map((a) => a.text)).toEqual(['The IAM role could not be updated']);
  } finally {
    await restarted.stop();
  }
});

test('a store failure while reading what was kept is logged: a DM with a conversation to look the person up in still goes', async () => {
  watched.records.failGets = true;
  await rig.adapter.notifyUser(erinRef, 'hello', { platform: 'teams', channelId: APPROVERS_CHANNEL });
  expect(rig.teams.postedIn(rig.teams.personalChats.get(erin.id)!).map((a) => a.text)).toEqual(['hello']);
  expect(rig.logs).toContainEqual(
    expect.objectContaining({
      level: 'warn',
      fields: expect.objectContaining({ err: 'store unavailable' }),
      msg: expect.stringMatching(/could not read how to reach a Teams user/),
    }),
  );
});

test('someone never seen still gets the clear error, which says what they must do', async () => {
  const restarted = await restartedAdapter(rig.teams, watched.records);
  try {
    await expect(restarted.notifyUser(erinRef, 'hello')).rejects.toThrow(
      /none is known for teams:e7170000-.*message the bot once/,
    );
  } finally {
    await restarted.stop();
  }
});

test('a known person is written once: their next clicks write nothing, also after a restart; a new conversation is written', async () => {
  const from = { member: erin, serviceUrl: rig.teams.serviceUrl };
  const click = (conversationId = APPROVERS_CHANNEL) =>
    cardActionActivity({ ...from, conversationId }, { verb: 'approve', requestId: 'JIT-7K3Q2' });
  await rig.teams.deliver(rig.endpoint, click());
  await rig.adapter.idle();
  expect(watched.records.puts.filter((key) => key === erinKey)).toHaveLength(1);

  await rig.teams.deliver(rig.endpoint, click());
  await rig.teams.deliver(rig.endpoint, click());
  await rig.adapter.idle();
  expect(rig.events).toHaveLength(3);
  expect(watched.records.puts.filter((key) => key === erinKey)).toHaveLength(1);

  // After a restart, the first click of a known person reads the record and finds nothing new to write.
  await rig.adapter.stop();
  const restarted = new TeamsAdapter(fakeSettings(rig.teams), { records: watched.records });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [restarted] });
  try {
    await restarted.start(async () => ({ kind: 'info', text: 'noted' }), { locale: 'en' });
    const endpoint = `${server.url}${TEAMS_MESSAGES_PATH}`;
    await rig.teams.deliver(endpoint, click());
    await restarted.idle();
    expect(watched.records.puts.filter((key) => key === erinKey)).toHaveLength(1);

    // Seen in another conversation: that is new, and kept.
    await rig.teams.deliver(endpoint, click(OTHER_CHANNEL));
    await restarted.idle();
    expect(watched.records.puts.filter((key) => key === erinKey)).toHaveLength(2);
    expect(await watched.records.get(erinKey)).toEqual({ fromId: '29:erin', conversationId: OTHER_CHANNEL });
  } finally {
    await restarted.stop();
    await server.close();
  }
});

test('a store failure while keeping a person does not fail the event: it is handled, answered, and logged', async () => {
  watched.records.failPuts = true;
  const from = { member: erin, serviceUrl: rig.teams.serviceUrl };
  expect((await rig.teams.deliver(rig.endpoint, messageActivity(from, 'help'))).status).toBe(200);
  const clicked = await rig.teams.deliver(
    rig.endpoint,
    cardActionActivity(from, { verb: 'approve', requestId: 'JIT-7K3Q2' }),
  );
  expect(clicked.status).toBe(200);
  await rig.adapter.idle();
  expect(rig.events.map((event) => event.kind)).toEqual(['command', 'action']);
  // The command's answer went to the 1:1 chat: the ids were used even though they could not be kept.
  expect(rig.teams.postedIn(rig.teams.personalChats.get(erin.id)!).map((a) => a.text)).toEqual(['noted']);
  expect(watched.records.puts.filter((key) => key === erinKey).length).toBeGreaterThan(0);
  expect(rig.logs).toContainEqual(
    expect.objectContaining({
      level: 'warn',
      fields: expect.objectContaining({ err: 'store unavailable' }),
      msg: expect.stringMatching(/could not keep how to reach a Teams user/),
    }),
  );
  expect(await watched.records.get(erinKey)).toBeUndefined();

  // Once the store is back, the next event keeps the person.
  watched.records.failPuts = false;
  await rig.teams.deliver(rig.endpoint, messageActivity(from, 'help'));
  await rig.adapter.idle();
  expect(await watched.records.get(erinKey)).toEqual({
    fromId: '29:erin',
    conversationId: APPROVERS_CHANNEL,
    personalChat: rig.teams.personalChats.get(erin.id),
  });
});
