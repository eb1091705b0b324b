import { activitySchema, channelIdOf, translateActivity } from '../../../adapters/teams/activities';
import {
  APPROVERS_CHANNEL,
  BOT_ACCOUNT_ID,
  cardActionActivity,
  messageActivity,
  type FakeMember,
} from '../../support/fake-teams';

// Activities as Teams sends them, read into neutral events.

const SERVICE_URL = 'https://smba.trafficmanager.net/amer/';
const alice: FakeMember = { id: '29:alice', aadObjectId: 'A11CE000-0000-0000-0000-000000000001', name: 'Alice' };
const from = { member: alice, serviceUrl: SERVICE_URL };

const translate = (activity: object) => translateActivity(activitySchema.parse(activity));

test('a channel message that @mentions the bot is a command; the mention is removed, the person is their Entra object id (lower-cased: GUIDs ignore case)', () => {
  const translation = translate(messageActivity(from, 'web-prod-1 fix nginx for 2h'));
  expect(translation).toMatchObject({
    kind: 'command',
    origin: { serviceUrl: SERVICE_URL, conversationId: APPROVERS_CHANNEL, fromId: '29:alice' },
    event: {
      kind: 'command',
      platform: 'teams',
      actor: { platform: 'teams', userId: 'a11ce000-0000-0000-0000-000000000001', displayName: 'Alice' },
      channel: { platform: 'teams', channelId: APPROVERS_CHANNEL },
      locale: 'en-US',
      text: 'web-prod-1 fix nginx for 2h',
    },
  });
  expect(translation.kind !== 'ignored' && translation.event.deliveryId).toMatch(/^teams:[0-9a-f]{16}:f:/);
});

test('the delivery id is the activity id within its conversation: the same id in another channel is another delivery', () => {
  const here = translate(messageActivity({ ...from, id: '1700000000123' }, 'list'));
  const again = translate(messageActivity({ ...from, id: '1700000000123' }, 'list'));
  const elsewhere = translate(
    messageActivity({ ...from, id: '1700000000123', conversationId: '19:other@thread.tacv2' }, 'list'),
  );
  const ids = [here, again, elsewhere].map((t) => (t.kind === 'ignored' ? '' : t.event.deliveryId));
  expect(ids[0]).toBe(ids[1]);
  expect(ids[2]).not.toBe(ids[0]);
});

test('in a channel thread the channel is the conversation before ";messageid="', () => {
  const translation = translate(
    messageActivity({ ...from, conversationId: `${APPROVERS_CHANNEL};messageid=1700000000000` }, 'list'),
  );
  expect(translation).toMatchObject({
    kind: 'command',
    origin: { conversationId: APPROVERS_CHANNEL },
    event: { channel: { channelId: APPROVERS_CHANNEL } },
  });
  expect(channelIdOf('a:1xyz')).toBe('a:1xyz');
});

test('in the 1:1 chat no mention is needed; a leading /jit is tolerated', () => {
  const personal = { ...from, conversationId: 'a:personal-alice', conversationType: 'personal' as const };
  expect(translate(messageActivity(personal, 'list'))).toMatchObject({
    kind: 'command',
    event: { text: 'list', channel: { channelId: 'a:personal-alice' } },
  });
  expect(translate(messageActivity(personal, '/jit status JIT-7K3Q2'))).toMatchObject({
    event: { text: 'status JIT-7K3Q2' },
  });
});

test('a channel message that does not mention the bot is ignored', () => {
  expect(translate(messageActivity(from, 'web-1 fix', { mention: false }))).toMatchObject({ kind: 'ignored' });
});

test('other mentions in the reason stay as plain "@Name" text, and HTML entities become the characters typed', () => {
  expect(translate(messageActivity(from, 'web-1 <b>x</b> &amp; y'))).toMatchObject({
    event: { text: 'web-1 <b>x</b> &amp; y' },
  });
  const activity = messageActivity(from, 'web-1 ask <at>Bob</at> about &lt;script&gt; &amp; logs', { encoded: true });
  activity.entities.push({ type: 'mention', text: '<at>Bob</at>', mentioned: { id: '29:bob', name: 'Bob' } });
  expect(translate(activity)).toMatchObject({ event: { text: 'web-1 ask @Bob about <script> & logs' } });
});

test("the bot mention is removed wherever it is, and only the bot's", () => {
  const activity = messageActivity(from, '', { mention: false });
  activity.text = 'please <at>jitbot</at> web-1 check <at>jitbot ops</at>';
  activity.entities = [
    { type: 'mention', text: '<at>jitbot</at>', mentioned: { id: BOT_ACCOUNT_ID, name: 'jitbot' } },
    { type: 'mention', text: '<at>jitbot ops</at>', mentioned: { id: '19:team-tag', name: 'jitbot ops' } },
  ];
  expect(translate(activity)).toMatchObject({ event: { text: 'please   web-1 check @jitbot ops' } });
});

test('an Action.Execute click carries the verdict (verb), the request id and the typed comment; the clicked card is the reply-to id', () => {
  const translation = translate(
    cardActionActivity(from, {
      verb: 'reject',
      requestId: ' JIT-7K3Q2 ',
      comment: '  not now  ',
      cardActivityId: '1700000000123',
    }),
  );
  expect(translation).toMatchObject({
    kind: 'action',
    event: {
      kind: 'action',
      action: 'reject',
      requestId: 'JIT-7K3Q2',
      comment: 'not now',
      channel: { platform: 'teams', channelId: APPROVERS_CHANNEL },
      message: { platform: 'teams', channelId: APPROVERS_CHANNEL, messageId: '1700000000123' },
    },
  });
});

test("an empty comment is no comment; another app's verbs and other invokes are ignored", () => {
  const click = translate(cardActionActivity(from, { verb: 'approve', requestId: 'JIT-7K3Q2', comment: '   ' }));
  expect(click.kind === 'action' && click.event.comment).toBeUndefined();
  expect(translate(cardActionActivity(from, { verb: 'delete-everything', requestId: 'JIT-7K3Q2' }))).toMatchObject({
    kind: 'ignored',
  });
  expect(
    translate({ ...cardActionActivity(from, { verb: 'approve', requestId: 'JIT-7K3Q2' }), name: 'task/fetch' }),
  ).toMatchObject({ kind: 'ignored' });
  expect(translate({ ...messageActivity(from, 'x'), type: 'conversationUpdate' })).toMatchObject({ kind: 'ignored' });
});

test('a sender without an Entra object id is ignored', () => {
  const activity = messageActivity(from, 'list');
  delete activity.from.aadObjectId;
  expect(translate(activity)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('Entra object id') });
});
