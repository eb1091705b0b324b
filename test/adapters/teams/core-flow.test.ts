import { TeamsAdapter, TEAMS_MESSAGES_PATH } from '../../../adapters/teams/teams-adapter';
import {
  cardActionActivity,
  FakeTeams,
  messageActivity,
  type FakeActivity,
  type FakeMember,
} from '../../support/fake-teams';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { testConfig } from '../../support/harness';
import { startHttpServer } from '../../../src/http/server';
import { fakeSettings } from './teams-setup';

// The Teams adapter in front of the real core (assemble from src/app.ts, in-memory store, dry-run grants), driven
// with activities signed as the Bot Connector signs them; the fake Teams shows what people would see.

const REQUESTS = '19:requests@thread.tacv2';
const OPS = '19:ops@thread.tacv2';
const SEC = '19:security@thread.tacv2';

const member = (name: string, n: number, email?: string): FakeMember => ({
  id: `29:${name.toLowerCase()}`,
  aadObjectId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
  name,
  ...(email && { email }),
  userPrincipalName: `${name.toLowerCase()}@contoso.onmicrosoft.com`,
});
const dana = member('Dana', 1, 'dana@example.com');
const alice = member('Alice', 2, 'alice@example.com');
const bob = member('Bob', 3, 'bob@example.com');
const racers = Array.from({ length: 20 }, (_, i) => member(`Racer${i + 1}`, 100 + i));

let teams: FakeTeams;
let adapter: TeamsAdapter;
let flow: CoreFlow;
let endpoint: string;

beforeAll(async () => {
  teams = new FakeTeams();
  await teams.start();
  for (const m of [dana, alice, bob, ...racers]) teams.addMember(m);
  const config = testConfig((c) => {
    c.roles['ops-approvers']!.channels.teams = OPS;
    // Alice by Entra object id, the racers too; Bob by email (from the member look-up).
    c.roles['ops-approvers']!.members.push(
      `teams:${alice.aadObjectId}`,
      ...racers.map((r) => `teams:${r.aadObjectId}`),
    );
    c.roles['security-leads']!.channels.teams = SEC;
    c.roles['security-leads']!.members.push('bob@example.com');
    for (const [who, user] of [
      [dana, 'dana'],
      [alice, 'alice'],
    ] as const) {
      c.identities.push({
        match: { platform: 'teams', userId: who.aadObjectId },
        principal: { kind: 'iam-user', arn: `arn:aws-cn:iam::111122223333:user/${user}` },
        groups: ['developers'],
      });
    }
  });
  // The configured connector is unreachable: everything must go to the service URL the activities name.
  adapter = new TeamsAdapter(fakeSettings(teams, { serviceUrl: 'http://127.0.0.1:9/unreachable/' }));
  flow = await startCoreFlow({ config, adapter, owner: 'teams-e2e' });
  endpoint = `${flow.url}${TEAMS_MESSAGES_PATH}`;
});

afterAll(async () => {
  await flow.stop();
  await teams.stop();
});

const settle = () => flow.settle();

/** `@jitbot <text>` in a channel; returns what the bot then said to the person in their 1:1 chat. */
async function jit(who: FakeMember, text: string, conversationId = REQUESTS): Promise<string> {
  const before = dmsTo(who).length;
  const response = await teams.deliver(
    endpoint,
    messageActivity({ member: who, serviceUrl: teams.serviceUrl, conversationId }, text),
  );
  expect(response.status).toBe(200);
  await settle();
  const dms = dmsTo(who).slice(before);
  expect(dms).toHaveLength(1);
  return decodeTeamsText(dms[0]!.text!);
}

/** Clicks a card's Action.Execute as `who`; returns the invoke response. */
async function click(who: FakeMember, card: FakeActivity, verb: string, comment?: string): Promise<any> {
  const activity = cardActionActivity(
    { member: who, serviceUrl: teams.serviceUrl, conversationId: card.conversationId },
    { verb, requestId: requestIdOf(card), cardActivityId: card.id, ...(comment !== undefined && { comment }) },
  );
  const response = await teams.deliver(endpoint, activity);
  expect(response.status).toBe(200);
  await settle();
  return response.body;
}

function dmsTo(who: FakeMember): FakeActivity[] {
  const chat = teams.personalChats.get(who.id);
  return chat ? teams.postedIn(chat) : [];
}

const content = (card: FakeActivity) => card.attachments?.[0]?.content;
const requestIdOf = (card: FakeActivity): string => /JIT-[0-9A-Z]{5}/.exec(content(card).body[0].text)![0];
const verbs = (card: FakeActivity | { actions?: { verb: string }[] }): string[] =>
  ('attachments' in card ? content(card as FakeActivity) : card).actions?.map((a: { verb: string }) => a.verb) ?? [];
const statusLine = (card: FakeActivity): string => content(card).body[1].text;
const decodeTeamsText = (text: string) =>
  text
    .replace(/\\([\\*_[\]`~])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\u2060/g, '');

function cardFor(channel: string, requestId: string): FakeActivity {
  const card = teams.activities.find(
    (a) => a.conversationId === channel && content(a)?.body?.[0]?.text?.startsWith(requestId),
  );
  if (!card) throw new Error(`no card for ${requestId} in ${channel}`);
  return card;
}

/** The replies in a channel card's reply chain. */
const threadTexts = (card: FakeActivity): string[] =>
  teams.activities
    .filter((a) => a.conversationId === `${card.conversationId};messageid=${card.id}`)
    .map((a) => decodeTeamsText(a.text ?? ''));

function idIn(text: string): string {
  const match = /JIT-[0-9A-Z]{5}/.exec(text);
  if (!match) throw new Error(`no request id in: ${text}`);
  return match[0];
}

test('two levels in two channels: approve with comments, updates for everyone, replies in the chain, DMs to the requester', async () => {
  const submitted = await jit(dana, 'web-1 fix nginx for 2h');
  expect(submitted).toContain('waiting for Level 1 of 2');
  const requestId = idIn(submitted);

  const opsCard = cardFor(OPS, requestId);
  expect(JSON.stringify(content(opsCard))).toContain('web-1 (i-0123456789abcdef0)');
  expect(content(opsCard).version).toBe('1.5');
  expect(verbs(opsCard)).toEqual(['approve', 'reject']);
  expect(teams.postedIn(SEC)).toEqual([]);

  // Bob is Level 2's approver: not from the Level 1 channel. A message for him alone; the card stays as it was.
  const pending = content(opsCard);
  const refused = await click(bob, opsCard, 'approve');
  expect(refused).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
  expect(refused.value).toMatch(/not an approver|does not speak/);
  expect(content(opsCard)).toEqual(pending);

  // Alice approves with a comment: her view is the redrawn card; everyone else's comes by PUT.
  const approved = await click(alice, opsCard, 'approve', 'checked the change ticket');
  expect(approved).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
  const [answer, ...redrawn] = approved.value.body;
  expect(answer).toMatchObject({
    id: 'jitbot-answer',
    text: expect.stringContaining(`Recorded your approval of ${requestId}`),
  });
  expect(redrawn[1].text).toContain('Waiting for Level 2 of 2');
  expect(verbs(approved.value)).toEqual([]);
  expect(opsCard.history.length).toBeGreaterThan(1);
  expect(statusLine(opsCard)).toContain('Waiting for Level 2 of 2');
  expect(content(opsCard)).toEqual({ ...approved.value, body: redrawn });
  expect(
    teams.connectorCalls.some(
      (c) => c.method === 'PUT' && c.path === `/v3/conversations/${OPS}/activities/${opsCard.id}`,
    ),
  ).toBe(true);
  expect(threadTexts(opsCard).join('\n')).toContain('checked the change ticket');

  const securityCard = cardFor(SEC, requestId);
  expect(JSON.stringify(content(securityCard))).toContain('Level 2 of 2');
  expect(verbs(securityCard)).toEqual(['approve', 'reject']);

  // Bob is approver by email, which the member look-up gives.
  const final = await click(bob, securityCard, 'approve', 'ok for 2h');
  expect(final.value.body[0].text).toContain(`Recorded your approval of ${requestId}`);
  expect(final.value.body[2].text).toMatch(/Approved/);
  // The grant follows; everyone's card (the clicker's too) is then redrawn by updateActivity.
  expect(statusLine(securityCard)).toMatch(/Access active until/);
  expect(verbs(securityCard)).toEqual(['revoke']);
  expect(content(securityCard).body.some((e: { type: string }) => e.type === 'Input.Text')).toBe(false);
  expect(threadTexts(securityCard).join('\n')).toContain('ok for 2h');
  expect(threadTexts(securityCard).join('\n')).toContain('aws ssm start-session --target i-0123456789abcdef0');

  // The requester hears about it in the 1:1 chat, opened proactively with their app-scoped id.
  expect(
    dmsTo(dana)
      .map((m) => decodeTeamsText(m.text!))
      .join('\n'),
  ).toContain(`Your request ${requestId}`);
  const created = teams.connectorCalls.find((c) => c.method === 'POST' && c.path === '/v3/conversations');
  expect(created?.body).toMatchObject({
    isGroup: false,
    members: [{ id: dana.id }],
    bot: { id: expect.stringMatching(/^28:/) },
  });
  // Every call carried the bot's token, and none went to the configured (unreachable) connector.
  expect(teams.connectorCalls.every((c) => c.token?.startsWith('fake-bot-token-') && c.status < 400)).toBe(true);
});

test('reject with a comment: the card loses its buttons and shows the comment; a second click is refused with a message, never an error card', async () => {
  const grantsBefore = flow.granter.granted;
  const requestId = idIn(await jit(dana, 'i-0b0b0b0b0b0b0b0b1 rerun the batch'));
  const card = cardFor(OPS, requestId);

  const rejected = await click(alice, card, 'reject', 'use the scheduler instead');
  expect(rejected.type).toBe('application/vnd.microsoft.card.adaptive');
  expect(verbs(card)).toEqual([]);
  expect(JSON.stringify(content(card))).toContain('use the scheduler instead');
  expect(statusLine(card)).toContain('Rejected by Alice');
  const shown = content(card);

  const again = await click(racers[0]!, card, 'approve');
  expect(again).toMatchObject({ type: 'application/vnd.microsoft.activity.message' });
  expect(again.value).toContain(`${requestId} was already rejected`);
  expect(content(card)).toEqual(shown);
  expect(flow.granter.granted).toBe(grantsBefore);
});

test('a click resent to a replica that has no remembered answer is told it was handled, not given an empty body', async () => {
  const requestId = idIn(await jit(dana, 'web-2 restart the worker'));
  const card = cardFor(OPS, requestId);
  const activity = cardActionActivity(
    { member: alice, serviceUrl: teams.serviceUrl, conversationId: card.conversationId },
    { verb: 'approve', requestId, cardActivityId: card.id },
  );
  const first = await teams.deliver(endpoint, activity);
  expect(first.body.type).toBe('application/vnd.microsoft.card.adaptive');
  await settle();

  // Another replica (or this one after a restart): the core has seen the activity, the adapter never answered it.
  const replica = new TeamsAdapter(fakeSettings(teams));
  await replica.start(flow.core.service.handle, { locale: 'en' });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [replica] });
  try {
    const grantsBefore = flow.granter.granted;
    const resent = await teams.deliver(`${server.url}${TEAMS_MESSAGES_PATH}`, activity);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: 'This was already handled; the card shows where the request stands.',
    });
    await replica.idle();
    expect(flow.granter.granted).toBe(grantsBefore);
  } finally {
    await replica.stop();
    await server.close();
  }
});

test('self-approval is refused with a message for the clicker alone', async () => {
  const requestId = idIn(await jit(alice, 'web-1 check the logs'));
  const card = cardFor(OPS, requestId);
  const answer = await click(alice, card, 'approve');
  expect(answer.type).toBe('application/vnd.microsoft.activity.message');
  expect(answer.value).toMatch(/You requested JIT-\w+; someone else must decide it/);
  expect(verbs(card)).toEqual(['approve', 'reject']);
});

test('twenty approvers click at once: one grant, nineteen refusals, each told privately', async () => {
  const requestId = idIn(await jit(dana, 'i-0b0b0b0b0b0b0b0b1 investigate the disk'));
  const card = cardFor(OPS, requestId);
  const before = flow.granter.granted;
  const responses = await Promise.all(
    racers.map((racer) =>
      teams.deliver(
        endpoint,
        cardActionActivity(
          { member: racer, serviceUrl: teams.serviceUrl, conversationId: OPS },
          { verb: 'approve', requestId, cardActivityId: card.id },
        ),
      ),
    ),
  );
  await settle();
  expect(responses.map((r) => r.status)).toEqual(racers.map(() => 200));
  // What each racer read: the invoke response, or (had the core taken longer than Teams waits) their 1:1 chat.
  const answers = responses.map((response, i) =>
    [privateAnswer(response.body), ...dmsTo(racers[i]!).map((m) => decodeTeamsText(m.text!))].join('\n'),
  );
  expect(answers.filter((a) => a.includes(`Recorded your approval of ${requestId}`))).toHaveLength(1);
  expect(answers.filter((a) => a.includes(`${requestId} was already approved`))).toHaveLength(19);
  expect(flow.granter.granted - before).toBe(1);
  expect(verbs(card)).toEqual(['revoke']);
});

/** The clicker's answer in an invoke response: a message, or the answer block on their redrawn card. */
function privateAnswer(body: any): string {
  if (body?.type === 'application/vnd.microsoft.activity.message') return body.value;
  return decodeTeamsText(body?.value?.body?.find((e: { id?: string }) => e.id === 'jitbot-answer')?.text ?? '');
}

test('a redelivered command changes nothing the second time', async () => {
  const activity = messageActivity(
    { member: dana, serviceUrl: teams.serviceUrl, conversationId: REQUESTS },
    'web-2 rotate logs',
  );
  const cards = () => teams.postedIn(OPS).filter((a) => a.attachments).length;
  const before = cards();
  expect((await teams.deliver(endpoint, activity)).status).toBe(200);
  expect((await teams.deliver(endpoint, activity)).status).toBe(200);
  await settle();
  expect(cards()).toBe(before + 1);
});

test('in the 1:1 chat a command needs no mention, and the answer comes in that chat', async () => {
  const personal = {
    member: dana,
    serviceUrl: teams.serviceUrl,
    conversationId: 'a:personal-1',
    conversationType: 'personal' as const,
  };
  const before = dmsTo(dana).length;
  expect((await teams.deliver(endpoint, messageActivity(personal, 'help'))).status).toBe(200);
  await settle();
  const answers = dmsTo(dana).slice(before);
  expect(answers).toHaveLength(1);
  expect(decodeTeamsText(answers[0]!.text!)).toMatch(/web-1|<node>/);
});
