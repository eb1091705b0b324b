import { generateKeyPairSync, createPrivateKey, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { teamsEndpoints } from '../../../adapters/teams/settings';
import { TeamsAdapter } from '../../../adapters/teams/teams-adapter';
import { buildCard } from '../../../src/core/card-builder';
import { ChatRefused } from '../../../src/ports/chat';
import { adapterRecords } from '../../../src/services/adapter-records';
import { openStore } from '../../../src/store/open-store';
import {
  APPROVERS_CHANNEL,
  FAKE_APP_ID,
  FAKE_TENANT_ID,
  type FakeTeams,
  messageActivity,
  type FakeMember,
} from '../../support/fake-teams';
import { makeRequest } from '../../support/fixtures';
import { fakeSettings, startTeamsRig, type TeamsRig } from './teams-setup';

// What the adapter sends to the Bot Connector, asserted on the fake's recorded calls.

const alice: FakeMember = {
  id: '29:alice',
  aadObjectId: 'a11ce000-0000-0000-0000-000000000001',
  name: 'Alice Ops',
  email: 'alice@example.com',
  userPrincipalName: 'alice@contoso.onmicrosoft.com',
};
const guest: FakeMember = {
  id: '29:guest',
  aadObjectId: '9e570000-0000-0000-0000-000000000009',
  name: 'Gus Guest',
  userPrincipalName: 'gus_example.com#EXT#@contoso.onmicrosoft.com',
};
const GROUP_CHAT = '19:groupchat01@thread.v2';
const cardOf = (version = 1) => ({
  ...buildCard(makeRequest(), { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: [] }),
  version,
});
const aliceRef = { platform: 'teams' as const, userId: alice.aadObjectId, displayName: 'Alice' };

let rig: TeamsRig;
let teams: FakeTeams;

beforeAll(async () => {
  rig = await startTeamsRig();
  teams = rig.teams;
  teams.addMember(alice);
  teams.addMember(guest);
});

afterAll(async () => {
  await rig.close();
});

beforeEach(() => {
  teams.connectorCalls.length = 0;
});

test('a card is posted as an Adaptive Card attachment, updated by PUT on its id, and an identical redraw is skipped', async () => {
  const channel = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
  const ref = await rig.adapter.postCard(channel, cardOf(1));
  expect(ref).toEqual({ platform: 'teams', channelId: APPROVERS_CHANNEL, messageId: expect.any(String) });
  const [post] = teams.connectorCalls;
  expect(post).toMatchObject({ method: 'POST', path: `/v3/conversations/${APPROVERS_CHANNEL}/activities` });
  expect(post!.body).toMatchObject({
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { version: '1.5' } }],
  });

  await rig.adapter.updateCard(ref, cardOf(1));
  expect(teams.connectorCalls).toHaveLength(1);
  const decided = { ...cardOf(2), actions: [], commentInput: undefined };
  await rig.adapter.updateCard(ref, decided);
  await rig.adapter.updateCard(ref, cardOf(1)); // older: skipped
  expect(teams.connectorCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
    `POST /v3/conversations/${APPROVERS_CHANNEL}/activities`,
    `PUT /v3/conversations/${APPROVERS_CHANNEL}/activities/${ref.messageId}`,
  ]);
  expect(teams.activity(ref.messageId)!.attachments![0].content.actions).toBeUndefined();
});

test("a thread reply goes in the card's reply chain in a channel, and quotes the card in a chat", async () => {
  const inChannel = await rig.adapter.postCard({ platform: 'teams', channelId: APPROVERS_CHANNEL }, cardOf());
  const reply = await rig.adapter.replyInThread(inChannel, 'Alice approved: *looks fine* <at>Everyone</at>');
  expect(reply).toMatchObject({ platform: 'teams', channelId: APPROVERS_CHANNEL, threadId: inChannel.messageId });
  const threaded = teams.activity(reply.messageId)!;
  expect(threaded.conversationId).toBe(`${APPROVERS_CHANNEL};messageid=${inChannel.messageId}`);
  expect(threaded.text).toBe('Alice approved: \\*looks fine\\* &lt;\u2060at&gt;Everyone&lt;/\u2060at&gt;');
  // A reply to a reply stays in the same chain.
  const second = await rig.adapter.replyInThread(reply, 'and again');
  expect(teams.activity(second.messageId)!.conversationId).toBe(
    `${APPROVERS_CHANNEL};messageid=${inChannel.messageId}`,
  );

  const inChat = await rig.adapter.postCard({ platform: 'teams', channelId: GROUP_CHAT }, cardOf());
  const chatReply = await rig.adapter.replyInThread(inChat, 'noted');
  expect(teams.activity(chatReply.messageId)).toMatchObject({
    conversationId: GROUP_CHAT,
    replyToId: inChat.messageId,
  });
});

test('members are looked up in the conversation they were seen in: Entra object id, name, email (else the UPN)', async () => {
  const lastSeen = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
  expect(await rig.adapter.resolveUser(aliceRef, lastSeen)).toEqual({
    userId: alice.aadObjectId,
    displayName: 'Alice Ops',
    email: 'alice@example.com',
  });
  expect(teams.connectorCalls.map((c) => `${c.method} ${c.path}`)).toEqual([
    `GET /v3/conversations/${APPROVERS_CHANNEL}/members/${alice.aadObjectId}`,
  ]);
  // Cached: no second look-up.
  await rig.adapter.resolveUser(aliceRef, lastSeen);
  expect(teams.connectorCalls).toHaveLength(1);

  const gus = { platform: 'teams' as const, userId: guest.aadObjectId, displayName: 'Gus' };
  expect((await rig.adapter.resolveUser(gus, lastSeen)).email).toBe(guest.userPrincipalName);
  const stranger = { platform: 'teams' as const, userId: 'ffffffff-0000-0000-0000-000000000000', displayName: 'X' };
  await expect(rig.adapter.resolveUser(stranger, lastSeen)).rejects.toBeInstanceOf(ChatRefused);
  await expect(rig.adapter.resolveUser(stranger)).rejects.toThrow(/within a conversation/);
});

test("a DM opens the 1:1 chat with the person's app-scoped id once, then posts in it", async () => {
  const lastSeen = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
  await rig.adapter.notifyUser(aliceRef, 'Your request JIT-7K3Q2 was approved', lastSeen);
  await rig.adapter.notifyUser(aliceRef, 'Access ends in 10 minutes', lastSeen);
  const creates = teams.connectorCalls.filter((c) => c.method === 'POST' && c.path === '/v3/conversations');
  expect(creates).toHaveLength(1);
  expect(creates[0]!.body).toEqual({
    isGroup: false,
    bot: { id: `28:${FAKE_APP_ID}` },
    members: [{ id: '29:alice' }],
    tenantId: FAKE_TENANT_ID,
    channelData: { tenant: { id: FAKE_TENANT_ID } },
  });
  const chat = teams.personalChats.get('29:alice')!;
  expect(teams.postedIn(chat).map((a) => a.text)).toEqual([
    'Your request JIT-7K3Q2 was approved',
    'Access ends in 10 minutes',
  ]);
});

test('a person who wrote to the bot is DMed without a look-up: the activity gave their ids and the service URL', async () => {
  const bob: FakeMember = { id: '29:bob', aadObjectId: 'b0b00000-0000-0000-0000-000000000002', name: 'Bob' };
  teams.addMember(bob);
  await teams.deliver(rig.endpoint, messageActivity({ member: bob, serviceUrl: teams.serviceUrl }, 'help'));
  await rig.adapter.idle();
  teams.connectorCalls.length = 0;
  await rig.adapter.notifyUser({ platform: 'teams', userId: bob.aadObjectId, displayName: 'Bob' }, 'hello');
  expect(teams.connectorCalls.map((c) => c.method + ' ' + c.path.replace(/a:personal-\d+/, 'a:…'))).toEqual([
    'POST /v3/conversations/a:…/activities',
  ]);
});

test('a channel message can mention a person, by their app-scoped id when known', async () => {
  const ref = await rig.adapter.postMessage(
    { platform: 'teams', channelId: APPROVERS_CHANNEL },
    'JIT-7K3Q2 was approved',
    {
      mention: { platform: 'teams', userId: alice.aadObjectId, displayName: 'Alice <b>Ops</b>' },
    },
  );
  const posted = teams.connectorCalls.find((c) => c.method === 'POST')!;
  expect(posted.body.text).toBe('<at>Alice bOps/b</at> JIT-7K3Q2 was approved');
  expect(posted.body.entities).toEqual([
    { type: 'mention', text: '<at>Alice bOps/b</at>', mentioned: { id: '29:alice', name: 'Alice bOps/b' } },
  ]);
  expect(ref.messageId).toEqual(expect.any(String));
});

test("connector errors: permanent ones are ChatRefused with the connector's code, others retryable; the token never shows", async () => {
  const channel = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
  teams.failNext('/activities', 403);
  const refused = await failure(rig.adapter.postCard(channel, cardOf()));
  expect(refused).toBeInstanceOf(ChatRefused);
  expect((refused as ChatRefused).code).toBe('Injected');
  teams.failNext('/activities', 502);
  const outage = await failure(rig.adapter.postCard(channel, cardOf()));
  expect(outage).toBeInstanceOf(Error);
  expect(outage).not.toBeInstanceOf(ChatRefused);
  for (const error of [refused, outage]) {
    expect(JSON.stringify({ ...error, text: error.message })).not.toMatch(/fake-bot-token|Bearer/);
  }
});

test("the bot's token is fetched once with the client secret and reused until it nears expiry", async () => {
  const before = teams.tokenRequests.length;
  await rig.adapter.postCard({ platform: 'teams', channelId: APPROVERS_CHANNEL }, cardOf());
  await rig.adapter.postCard({ platform: 'teams', channelId: APPROVERS_CHANNEL }, cardOf());
  expect(teams.tokenRequests.length - before).toBe(0);
  expect(teams.tokenRequests[0]!.form).toEqual({
    grant_type: 'client_credentials',
    client_id: FAKE_APP_ID,
    client_secret: 'fake-client-secret',
    scope: 'https://api.botframework.com/.default',
  });
});

test('a wrong client secret stops start-up with a clear message that does not contain the secret', async () => {
  const adapter = new TeamsAdapter(
    fakeSettings(teams, { credential: { kind: 'secret', secret: 'wrong-secret-value' } }),
  );
  const error = await failure(adapter.start(async () => ({ kind: 'none' }), { locale: 'en' }));
  expect(error.message).toMatch(/refused the bot's credential \(invalid_client\)/);
  expect(error.message).not.toContain('wrong-secret-value');
});

test('an empty app id or secret is a configuration error, never "auth off"', () => {
  expect(() => new TeamsAdapter(fakeSettings(teams, { appId: '' }))).toThrow(/appId is empty/);
  expect(() => new TeamsAdapter(fakeSettings(teams, { credential: { kind: 'secret', secret: '' } }))).toThrow(
    /appPassword is empty/,
  );
  expect(() => new TeamsAdapter(fakeSettings(teams, { tenantId: 'common' }))).toThrow(
    /tenantId must be the Entra tenant id/,
  );
});

test('a certificate credential signs a client assertion the token endpoint verifies with the registered certificate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitbot-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=jitbot-test',
      ],
      { stdio: 'ignore' },
    );
    const certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const privateKeyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
    expect(new X509Certificate(certificatePem).subject).toContain('jitbot-test');
    teams.registeredCertificate = certificatePem;
    const adapter = new TeamsAdapter(
      fakeSettings(teams, { credential: { kind: 'certificate', privateKeyPem, certificatePem } }),
    );
    await adapter.start(async () => ({ kind: 'none' }), { locale: 'en' });
    const request = teams.tokenRequests[teams.tokenRequests.length - 1]!;
    expect(request.assertionValid).toBe(true);
    expect(request.form.client_secret).toBeUndefined();

    // A key that is not the certificate's is refused.
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    createPrivateKey(otherKey);
    const impostor = new TeamsAdapter(
      fakeSettings(teams, { credential: { kind: 'certificate', privateKeyPem: otherKey, certificatePem } }),
    );
    await expect(impostor.start(async () => ({ kind: 'none' }), { locale: 'en' })).rejects.toThrow(/invalid_client/);
    await adapter.stop();
  } finally {
    teams.registeredCertificate = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test("the bot being added to a team teaches it the tenant's Bot Connector: cards then go there, not to the configured one", async () => {
  const added = await startTeamsRig({ settings: { serviceUrl: 'http://127.0.0.1:9/unreachable/' } });
  try {
    const channel = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
    await expect(added.adapter.postCard(channel, cardOf())).rejects.toThrow(/Teams post failed/);
    const conversationUpdate = {
      ...messageActivity({ member: alice, serviceUrl: added.teams.serviceUrl }, ''),
      type: 'conversationUpdate',
      membersAdded: [{ id: `28:${FAKE_APP_ID}` }],
    };
    expect((await added.teams.deliver(added.endpoint, conversationUpdate)).status).toBe(200);
    const ref = await added.adapter.postCard(channel, cardOf());
    expect(added.teams.activity(ref.messageId)?.conversationId).toBe(APPROVERS_CHANNEL);
  } finally {
    await added.close();
  }
});

test('the service URL learned from verified traffic is kept: a new adapter on the same records posts there at once', async () => {
  const { store, close } = await openStore({ embedded: { inMemory: true } });
  const records = adapterRecords(store, 'teams');
  const unreachable = { serviceUrl: 'http://127.0.0.1:9/unreachable/' };
  const first = await startTeamsRig({ settings: unreachable, records });
  try {
    const activity = messageActivity({ member: alice, serviceUrl: first.teams.serviceUrl }, 'help');
    expect((await first.teams.deliver(first.endpoint, activity)).status).toBe(200);
    await first.adapter.idle();
    expect(first.logs.map((line) => line.msg)).toContain('teams service URL learned');

    // A restart: a new adapter, configured with the unreachable connector, on the same records.
    const restarted = new TeamsAdapter(fakeSettings(first.teams, unreachable), { records });
    await restarted.start(async () => ({ kind: 'info', text: 'noted' }), { locale: 'en' });
    try {
      const channel = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
      const ref = await restarted.postCard(channel, cardOf());
      expect(first.teams.activity(ref.messageId)?.conversationId).toBe(APPROVERS_CHANNEL);
    } finally {
      await restarted.stop();
    }

    // Without the records, a restarted adapter still uses the configured connector (what the warning says).
    const forgetful = new TeamsAdapter(fakeSettings(first.teams, unreachable));
    await forgetful.start(async () => ({ kind: 'info', text: 'noted' }), { locale: 'en' });
    try {
      await expect(forgetful.postCard({ platform: 'teams', channelId: APPROVERS_CHANNEL }, cardOf())).rejects.toThrow(
        /Teams post failed/,
      );
    } finally {
      await forgetful.stop();
    }
  } finally {
    await first.close();
    await close();
  }
});

test('Teams operated by 21Vianet: its issuer, OpenID metadata, token scope and token URL', () => {
  const endpoints = teamsEndpoints({
    appId: FAKE_APP_ID,
    tenantId: FAKE_TENANT_ID,
    credential: { kind: 'secret', secret: 'x' },
    cloud: 'china',
  });
  expect(endpoints).toMatchObject({
    issuer: 'https://api.botframework.azure.cn',
    openIdMetadataUrl: 'https://login.botframework.azure.cn/v1/.well-known/openidconfiguration',
    scope: 'https://api.botframework.azure.cn/.default',
    tokenUrl: `https://login.partner.microsoftonline.cn/${FAKE_TENANT_ID}/oauth2/v2.0/token`,
  });
  const overridden = teamsEndpoints({
    appId: FAKE_APP_ID,
    tenantId: FAKE_TENANT_ID,
    credential: { kind: 'secret', secret: 'x' },
    cloud: 'china',
    serviceUrl: 'https://connector.example.cn/teams/',
  });
  expect(overridden.serviceUrl).toBe('https://connector.example.cn/teams');
});

test('a rate-limited post (429) is sent again after Retry-After: one card, not two; a lasting limit fails retryably', async () => {
  const channel = { platform: 'teams' as const, channelId: APPROVERS_CHANNEL };
  const before = teams.activities.length;
  teams.failNext('/activities', 429, 2);
  const ref = await rig.adapter.postCard(channel, cardOf());
  expect(teams.connectorCalls.map((c) => c.status)).toEqual([429, 429, 201]);
  expect(teams.activities.length - before).toBe(1);
  expect(teams.activity(ref.messageId)).toBeDefined();

  teams.failNext('/activities', 429, 10);
  const limited = await failure(rig.adapter.postCard(channel, cardOf()));
  expect(limited).not.toBeInstanceOf(ChatRefused);
  expect(limited.message).toMatch(/HTTP 429/);
  teams.failNext('/activities', 429, 0);
});
