import { TeamsAdapter } from '../../../adapters/teams/teams-adapter';
import { isCardActionId, type CardActionId } from '../../../src/core/card';
import {
  CHANNELS,
  EVERYONE,
  PEOPLE,
  runChatConformance,
  type CardView,
  type Channel,
  type ConformanceDriver,
  type Person,
  type PlatformSession,
  type Sent,
  type Shown,
} from '../../support/chat-conformance';
import {
  cardActionActivity,
  FakeTeams,
  messageActivity,
  type FakeActivity,
  type FakeMember,
} from '../../support/fake-teams';
import { fakeSettings } from './teams-setup';

// Teams against the chat conformance suite: activities signed as the Bot Connector signs them, posted to jitbot's
// /teams/messages; the fake Teams as Bot Connector, token endpoint and OpenID metadata. A person's private answer
// is the invoke response (a message, or the answer on top of their redrawn card) plus what jitbot sent to their 1:1
// chat meanwhile (Teams has no private reply to a message in a channel). What people read is decoded from the
// Adaptive Cards and message texts the fake received; only mention entities notify. The redrawn card in an
// invoke response is not applied to the fake's message: in Teams it replaces only the clicker's view, and
// everyone's card changes by the update (PUT) the outbox sends.

const CHANNEL_IDS: Record<Channel, string> = {
  requests: '19:requests@thread.tacv2',
  ops: '19:ops@thread.tacv2',
  security: '19:security@thread.tacv2',
};
const personId = (person: Person): string =>
  person === 'named'
    ? 'AbCdEf00-0000-4000-8000-00000000beef'
    : `${(PEOPLE.indexOf(person) + 1).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
const memberOf = (person: Person): FakeMember => ({
  id: `29:${person}`,
  aadObjectId: personId(person),
  name: person[0]!.toUpperCase() + person.slice(1),
  email: `${person}@example.com`,
});

// ── reading Teams as a person would ─────────────────────────────────────────────────────────────────────

const WORD_JOINER = /\u2060/g;

/** Markdown as read: backslash escapes gone, invisible joiners gone. */
function readMarkdown(text: string): string {
  return text.replace(WORD_JOINER, '').replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** A message's text as read: markdown, then the HTML entities Teams decodes; a blank line is a line break. */
function readMessageText(text: string): string {
  return readMarkdown(text)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\n\n/g, '\n');
}

function mentionsIn(entities: unknown): string[] {
  if (!Array.isArray(entities)) return [];
  return entities
    .filter(
      (e): e is { type: string; mentioned: { id: string } } =>
        e?.type === 'mention' && typeof e.mentioned?.id === 'string',
    )
    .map((e) => (/^19:|@thread/.test(e.mentioned.id) ? EVERYONE : e.mentioned.id));
}

function readCardBody(body: any[]): string {
  const lines: string[] = [];
  for (const element of body) {
    if (element.type === 'TextBlock') lines.push(readMarkdown(element.text));
    if (element.type === 'FactSet')
      for (const fact of element.facts) lines.push(`${readMarkdown(fact.title)}: ${readMarkdown(fact.value)}`);
    if (element.type === 'RichTextBlock')
      lines.push(element.inlines.map((run: { text: string }) => run.text.replace(WORD_JOINER, '')).join(''));
  }
  return lines.join('\n');
}

function readActivity(activity: FakeActivity): Shown {
  const card = activity.attachments?.[0]?.content;
  if (card) return { text: readCardBody(card.body), mentions: mentionsIn(card.msteams?.entities) };
  return { text: readMessageText(activity.text ?? ''), mentions: mentionsIn(activity.entities) };
}

/** Throws when Teams would not show the card: not version 1.5, or unknown element types. */
function requireValidCard(activity: FakeActivity): void {
  const card = activity.attachments?.[0];
  if (card?.contentType !== 'application/vnd.microsoft.card.adaptive' || card.content.version !== '1.5') {
    throw new Error(`Teams would not show ${activity.id} as an Adaptive Card 1.5`);
  }
  for (const element of card.content.body) {
    if (!['TextBlock', 'FactSet', 'RichTextBlock', 'Input.Text'].includes(element.type))
      throw new Error(`unexpected element ${element.type}`);
  }
  if (Buffer.byteLength(JSON.stringify(card.content)) > 28_000)
    throw new Error(`card ${activity.id} is over Teams' size limit`);
}

/** What the clicker reads in an invoke response: the message, or the answer on top of the redrawn card. */
function readInvokeResponse(body: any): string[] {
  if (body?.type === 'application/vnd.microsoft.activity.message') return [String(body.value)];
  const answer =
    body?.type === 'application/vnd.microsoft.card.adaptive'
      ? body.value.body.find((e: { id?: string }) => e.id === 'jitbot-answer')
      : undefined;
  return answer ? [readMarkdown(answer.text)] : [];
}

// ── the driver ──────────────────────────────────────────────────────────────────────────────────────────

const teamsDriver: ConformanceDriver<FakeActivity> = {
  platform: 'teams',
  personId,
  channelId: (channel) => CHANNEL_IDS[channel],
  signed: true,
  async start(boot) {
    const teams = new FakeTeams();
    await teams.start();
    for (const person of PEOPLE) teams.addMember(memberOf(person));
    const adapter = new TeamsAdapter(fakeSettings(teams));
    const { url } = await boot(adapter);
    const endpoint = `${url}/teams/messages`;
    let last: { activity: object; as: Person } | undefined;

    const dmsOf = (person: Person) => {
      const chat = teams.personalChats.get(memberOf(person).id);
      return chat ? teams.postedIn(chat) : [];
    };

    async function deliver(activity: object, as: Person, token?: string): Promise<Sent> {
      const dmsBefore = dmsOf(as).length;
      const response = await teams.deliver(endpoint, activity, token);
      return {
        status: response.status,
        answers: async () => [
          ...readInvokeResponse(response.body),
          ...dmsOf(as)
            .slice(dmsBefore)
            .map((dm) => readActivity(dm).text),
        ],
      };
    }
    const from = (as: Person, conversationId: string) => ({
      member: memberOf(as),
      serviceUrl: teams.serviceUrl,
      conversationId,
    });

    const session: PlatformSession<FakeActivity> = {
      command(as, channel, text) {
        const activity = messageActivity(from(as, CHANNEL_IDS[channel]), text);
        last = { activity, as };
        return deliver(activity, as);
      },
      click(as, card, action, comment) {
        const activity = cardActionActivity(from(as, card.ref.conversationId), {
          verb: action,
          requestId: card.requestId,
          cardActivityId: card.ref.id,
          ...(comment !== undefined && { comment }),
        });
        last = { activity, as };
        return deliver(activity, as);
      },
      redeliver() {
        if (!last) throw new Error('nothing was delivered yet');
        return deliver(last.activity, last.as);
      },
      async forgedCommand(as, channel, text) {
        return deliver(
          messageActivity(from(as, CHANNEL_IDS[channel]), text),
          as,
          await teams.sign({ key: teams.foreignKey }),
        );
      },
      async cards(channel) {
        return teams
          .postedIn(CHANNEL_IDS[channel])
          .filter((a) => a.conversationId === CHANNEL_IDS[channel] && a.attachments)
          .map((activity): CardView<FakeActivity> => {
            requireValidCard(activity);
            const content = activity.attachments![0].content;
            const shown = readActivity(activity);
            return {
              ref: activity,
              channel,
              requestId: /JIT-[0-9A-Z]{5}/.exec(shown.text)![0],
              buttons: ((content.actions ?? []) as { type: string; verb: string }[])
                .filter((a) => a.type === 'Action.Execute')
                .map((a) => a.verb)
                .filter((verb): verb is CardActionId => isCardActionId(verb)),
              commentBox: content.body.some((e: { type: string }) => e.type === 'Input.Text'),
              ...shown,
            };
          });
      },
      threadReplies: async (card) =>
        teams.activities
          .filter((a) => a.conversationId === `${card.ref.conversationId};messageid=${card.ref.id}`)
          .map(readActivity),
      channelPosts: async (channel) =>
        teams.activities.filter((a) => a.conversationId === CHANNEL_IDS[channel] && !a.attachments).map(readActivity),
      dms: async (person) => dmsOf(person).map(readActivity),
      idle: () => adapter.idle(),
      close: () => teams.stop(),
    };
    return session;
  },
};

void CHANNELS;
runChatConformance(teamsDriver);
