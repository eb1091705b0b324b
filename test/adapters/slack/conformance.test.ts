import { randomUUID } from 'node:crypto';
import { SlackAdapter } from '../../../adapters/slack/slack-adapter';
import { BLOCK_KIT_LIMITS } from '../../../adapters/slack/block-kit';
import { isCardActionId, type CardActionId } from '../../../src/core/card';
import { FAKE_BOT_TOKEN, FakeSlack, type FakeMessage } from '../../support/fake-slack';
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
import { blockActionsBody, postSigned, SIGNING_SECRET, slashCommandBody } from './slack-requests';

// Slack against the chat conformance suite: signed slash commands and block_actions over HTTP to jitbot, the
// fake Slack as the Web API and response_url endpoints. Private answers are what reached the response_url;
// what people read is decoded from the Block Kit the fake received, and every card is checked against Block
// Kit's limits (a message Slack would refuse does not "render").

const CHANNEL_IDS: Record<Channel, string> = { requests: 'C0REQUESTS', ops: 'C0OPS', security: 'C0SECURITY' };
const personId = (person: Person): string => (person === 'named' ? 'U0NamedApprover' : `U0${person.toUpperCase()}`);

// ── reading Block Kit as a person would ─────────────────────────────────────────────────────────────────

interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}

/** Mentions Slack would notify in mrkdwn: `<@U…>`, `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^…>`. */
function mrkdwnMentions(text: string): string[] {
  return [...text.matchAll(/<([@!])([^|>]+)(?:\|[^>]*)?>/g)].map(([, sigil, target]) =>
    sigil === '@' ? target! : EVERYONE,
  );
}

/** mrkdwn as read: links and mentions by their label, formatting markers gone, entities decoded. */
function readMrkdwn(text: string): string {
  return text
    .replace(
      /<([@!#]?)([^|>]+)(?:\|([^>]*))?>/g,
      (_m, sigil: string, target: string, label?: string) => label ?? `${sigil === '!' ? '@' : sigil}${target}`,
    )
    .replace(/(^|\s)[*_~]([^*_~\n]+)[*_~](?=\s|$)/g, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function readText(object: TextObject | undefined): Shown {
  if (!object) return { text: '', mentions: [] };
  return object.type === 'mrkdwn'
    ? { text: readMrkdwn(object.text), mentions: mrkdwnMentions(object.text) }
    : { text: object.text, mentions: [] };
}

/** What a message shows: its blocks when it has them (the top-level text is then only the notification). */
function readMessage(message: { text?: string; blocks?: any[] }): Shown {
  const parts: Shown[] = [];
  for (const block of message.blocks ?? []) {
    switch (block.type) {
      case 'header':
      case 'section':
        parts.push(readText(block.text), ...((block.fields ?? []) as TextObject[]).map(readText));
        break;
      case 'context':
        parts.push(...(block.elements as TextObject[]).map(readText));
        break;
      case 'rich_text':
        for (const section of block.elements)
          parts.push({ text: section.elements.map((e: { text: string }) => e.text).join(''), mentions: [] });
        break;
    }
  }
  // The notification text notifies too.
  const notification = message.text ? mrkdwnMentions(message.text) : [];
  if (!message.blocks?.length) parts.push(readText({ type: 'mrkdwn', text: message.text ?? '' }));
  return {
    text: parts.map((p) => p.text).join('\n'),
    mentions: [...new Set([...parts.flatMap((p) => p.mentions), ...notification])],
  };
}

/** Throws when Slack would refuse the message (limits of the blocks this card uses). */
function requireValidBlockKit(message: FakeMessage): void {
  const L = BLOCK_KIT_LIMITS;
  const blocks = message.blocks ?? [];
  const problem = (what: string) => {
    throw new Error(`Slack would refuse card ${message.ts}: ${what}`);
  };
  if (blocks.length > L.blocksPerMessage) problem(`${blocks.length} blocks`);
  const within = (object: TextObject | undefined, max: number, where: string) => {
    if (object && (object.text.length === 0 || object.text.length > max))
      problem(`${where} text of ${object.text.length} characters`);
  };
  for (const block of blocks) {
    if (block.type === 'header') within(block.text, L.headerText, 'header');
    if (block.type === 'section') {
      within(block.text, L.sectionText, 'section');
      if ((block.fields ?? []).length > L.fieldsPerSection) problem('too many fields');
      for (const field of block.fields ?? []) within(field, L.fieldText, 'field');
    }
    if (block.type === 'context') for (const element of block.elements) within(element, L.contextText, 'context');
    if (block.type === 'actions') for (const button of block.elements) within(button.text, L.buttonText, 'button');
  }
}

function requestIdOf(message: FakeMessage): string | undefined {
  const header = message.blocks?.find((b) => b.type === 'header');
  return header ? /JIT-[0-9A-Z]{5}/.exec(header.text.text)?.[0] : undefined;
}

// ── the driver ──────────────────────────────────────────────────────────────────────────────────────────

interface SlackRef {
  channelId: string;
  ts: string;
}

const slackDriver: ConformanceDriver<SlackRef> = {
  platform: 'slack',
  personId,
  channelId: (channel) => CHANNEL_IDS[channel],
  signed: true,
  async start(boot) {
    const fake = await FakeSlack.start({
      users: PEOPLE.map((person) => ({
        id: personId(person),
        name: person,
        realName: person[0]!.toUpperCase() + person.slice(1),
        email: `${person}@example.com`,
      })),
      channels: CHANNELS.map((channel) => ({
        id: CHANNEL_IDS[channel],
        name: channel,
        isPrivate: channel !== 'requests',
        isMember: true,
      })),
    });
    const adapter = new SlackAdapter({ botToken: FAKE_BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
    const { url } = await boot(adapter);
    let last: { body: string; responseId: string; retries: number } | undefined;

    /** Posts a signed delivery; the private answer is what jitbot sent to its response_url. */
    async function deliver(
      body: string,
      responseId: string,
      options: { retryNum?: number; secret?: string } = {},
    ): Promise<Sent> {
      const response = await postSigned(url, body, options);
      await response.body?.cancel();
      return {
        status: response.status,
        answers: async () => fake.responsesTo(responseId).map((r) => readMessage(r.body).text),
      };
    }

    const session: PlatformSession<SlackRef> = {
      command(as, channel, text) {
        const responseId = randomUUID();
        const body = slashCommandBody({
          text,
          userId: personId(as),
          channelId: CHANNEL_IDS[channel],
          responseUrl: fake.responseUrl(responseId),
        });
        last = { body, responseId, retries: 0 };
        return deliver(body, responseId);
      },
      click(as, card, action, comment) {
        const responseId = randomUUID();
        const body = blockActionsBody({
          userId: personId(as),
          channelId: card.ref.channelId,
          messageTs: card.ref.ts,
          action,
          requestId: card.requestId,
          responseUrl: fake.responseUrl(responseId),
          ...(comment !== undefined && { comment }),
        });
        last = { body, responseId, retries: 0 };
        return deliver(body, responseId);
      },
      redeliver() {
        if (!last) throw new Error('nothing was delivered yet');
        last.retries += 1;
        return deliver(last.body, last.responseId, { retryNum: last.retries });
      },
      forgedCommand(as, channel, text) {
        const responseId = randomUUID();
        const body = slashCommandBody({
          text,
          userId: personId(as),
          channelId: CHANNEL_IDS[channel],
          responseUrl: fake.responseUrl(responseId),
        });
        return deliver(body, responseId, { secret: 'not-the-signing-secret' });
      },
      async cards(channel) {
        return fake.channelMessages(CHANNEL_IDS[channel]).flatMap((message): CardView<SlackRef>[] => {
          const requestId = requestIdOf(message);
          if (!requestId) return [];
          requireValidBlockKit(message);
          const buttons = (message.blocks ?? [])
            .filter((b) => b.type === 'actions')
            .flatMap((b) => b.elements.map((e: { action_id: string }) => e.action_id))
            .filter((id: string): id is CardActionId => isCardActionId(id));
          return [
            {
              ref: { channelId: message.channel, ts: message.ts },
              channel,
              requestId,
              buttons,
              commentBox: (message.blocks ?? []).some((b) => b.type === 'input'),
              ...readMessage(message),
            },
          ];
        });
      },
      threadReplies: async (card) => fake.threadReplies(card.ref.channelId, card.ref.ts).map(readMessage),
      channelPosts: async (channel) =>
        fake
          .channelMessages(CHANNEL_IDS[channel])
          .filter((m) => !requestIdOf(m))
          .map(readMessage),
      dms: async (person) => fake.channelMessages(`D_${personId(person)}`).map(readMessage),
      idle: () => adapter.idle(),
      close: () => fake.close(),
    };
    return session;
  },
};

runChatConformance(slackDriver);
