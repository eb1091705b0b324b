import { FeishuAdapter } from '../../../adapters/feishu/feishu-adapter';
import { FEISHU_EVENTS_PATH } from '../../../adapters/feishu/events-route';
import { isCardActionId, type CardActionId } from '../../../src/core/card';
import { FakeFeishu, type FakeFeishuMessage } from '../../support/fake-feishu';
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
  BOT_MENTION,
  cardActionEnvelope,
  encryptedBody,
  ENCRYPT_KEY,
  httpModeOptions,
  messageEnvelope,
  signatureHeaders,
} from './feishu-requests';

// Feishu against the chat conformance suite, over HTTP callbacks signed and encrypted as Feishu sends them, with
// the fake Feishu as the Open API. Commands are group messages that @mention the bot; the answer is the bot's
// reply to that message. Clicks are card callbacks; the answer is the toast in the response, whose card the fake
// applies to the message as Feishu does with a shared card. What people read is the card's plain text.

const CHANNEL_IDS: Record<Channel, string> = { requests: 'oc_requests', ops: 'oc_ops', security: 'oc_security' };
/** union_ids; `named` mixes case, as the suite requires. */
const personId = (person: Person): string => (person === 'named' ? 'on_NamedApprover' : `on_${person}`);
const openId = (person: Person): string => `ou_${personId(person).slice(3)}`;

// ── reading a Feishu message as a person would ───────────────────────────────────────────────────────────

/** The invisible word joiners jitbot puts in text so that nothing can form a tag or @all; a person does not see them. */
const withoutJoiners = (text: string) => text.replace(/\u2060/g, '');

/** Every plain_text content in a card, header first, in order. */
function cardTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(cardTexts);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  if (object.tag === 'plain_text' && typeof object.content === 'string') return [withoutJoiners(object.content)];
  // Markdown would notify and format: jitbot's cards have none, and a person would not read its raw text.
  if (object.tag === 'markdown' || object.tag === 'lark_md')
    throw new Error('a card holds markdown: text people typed could become markup');
  return Object.values(object).flatMap(cardTexts);
}

/** Who a card notifies: `<at>` in any text, and @all. A person component shows a name; it notifies nobody. */
function cardMentions(card: unknown): string[] {
  const json = JSON.stringify(card);
  return [...json.matchAll(/<at\b[^>]*(?:id|user_id)=\\?"?([\w-]+)/g)].map(([, id]) => (id === 'all' ? EVERYONE : id!));
}

/** A rich-text post: text elements as written, `at` elements as @mentions. */
function readPost(message: FakeFeishuMessage): Shown {
  const paragraphs = (message.content?.zh_cn?.content ?? []) as { tag: string; text?: string; user_id?: string }[][];
  const mentions: string[] = [];
  const text = paragraphs
    .map((paragraph) =>
      paragraph
        .map((element) => {
          if (element.tag === 'at') {
            mentions.push(element.user_id === 'all' ? EVERYONE : element.user_id!);
            return `@${element.user_id}`;
          }
          return withoutJoiners(element.text ?? '');
        })
        .join(''),
    )
    .join('\n');
  return { text, mentions };
}

function buttonsOf(card: unknown): CardActionId[] {
  const names = (JSON.stringify(card).match(/"tag":"button","name":"(\w+)"/g) ?? []).map(
    (m) => /"name":"(\w+)"/.exec(m)![1]!,
  );
  return names.filter((name): name is CardActionId => isCardActionId(name));
}

function requestIdOf(message: FakeFeishuMessage): string | undefined {
  return message.msgType === 'interactive'
    ? /JIT-[0-9A-Z]{5}/.exec(message.content?.header?.title?.content ?? '')?.[0]
    : undefined;
}

// ── the driver ──────────────────────────────────────────────────────────────────────────────────────────

interface FeishuRef {
  chatId: string;
  messageId: string;
}

const feishuDriver: ConformanceDriver<FeishuRef> = {
  platform: 'feishu',
  personId,
  channelId: (channel) => CHANNEL_IDS[channel],
  signed: true,
  async start(boot) {
    const fake = await FakeFeishu.start({
      chats: CHANNELS.map((channel) => CHANNEL_IDS[channel]),
      users: PEOPLE.map((person) => ({
        openId: openId(person),
        unionId: personId(person),
        name: person[0]!.toUpperCase() + person.slice(1),
        email: `${person}@example.com`,
      })),
    });
    const adapter = new FeishuAdapter(
      httpModeOptions(fake, {
        // A PATCH waits this long after a click's response card (1 s in production), so that Feishu shows the
        // response first; here the fake applies the response as soon as it arrives.
        responseSettleMs: 200,
      }),
    );
    const { url } = await boot(adapter);
    let last: { body: string; read: (json: any) => Promise<string[]>; apply?: (json: any) => void } | undefined;

    /** Posts a signed, encrypted callback, as Feishu does (a retry is signed afresh). */
    async function deliver(
      body: string,
      read: (json: any) => Promise<string[]>,
      encryptKey = ENCRYPT_KEY,
      onAnswer?: (json: any) => void,
    ): Promise<Sent> {
      const response = await fetch(url + FEISHU_EVENTS_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signatureHeaders(body, { encryptKey }) },
        body,
      });
      const json: any = await response.json().catch(() => undefined);
      // Feishu applies a card in the response at once, for everyone (a shared card).
      if (response.status === 200 && onAnswer) onAnswer(json);
      return { status: response.status, answers: () => (response.status === 200 ? read(json) : Promise.resolve([])) };
    }

    function command(as: Person, channel: Channel, text: string, encryptKey?: string): Promise<Sent> {
      const chatId = CHANNEL_IDS[channel];
      const typed = `@_user_1 /jit ${text}`;
      const messageId = fake.userMessage(chatId, typed);
      const envelope = messageEnvelope(typed, {
        sender: { openId: openId(as), unionId: personId(as) },
        chatId,
        messageId,
        mentions: [{ key: BOT_MENTION.key, person: { ...BOT_MENTION.person, openId: 'ou_jitbot' } }],
      });
      const body = encryptedBody(envelope);
      // The answer to a command is the bot's reply to the person's message.
      const read = async () => fake.messages.filter((m) => m.parentId === messageId).map((m) => readPost(m).text);
      if (encryptKey === undefined) last = { body, read };
      return deliver(body, read, encryptKey);
    }

    const session: PlatformSession<FeishuRef> = {
      command: (as, channel, text) => command(as, channel, text),
      click(as, card, action, comment) {
        const envelope = cardActionEnvelope(action, card.requestId, {
          operator: { openId: openId(as), unionId: personId(as) },
          messageId: card.ref.messageId,
          chatId: card.ref.chatId,
          ...(comment !== undefined && { comment }),
        });
        const body = encryptedBody(envelope);
        const dmsBefore = fake.chatMessages(`oc_dm_${personId(as)}`).length;
        const read = async (json: any) => {
          const toast = json?.toast as { type: string; content: string } | undefined;
          if (toast && toast.type !== 'info') return [withoutJoiners(toast.content)];
          // Past the deadline the toast only says "working…"; the answer follows by DM.
          return fake
            .chatMessages(`oc_dm_${personId(as)}`)
            .slice(dmsBefore)
            .map((m) => readPost(m).text);
        };
        const apply = (json: any) => fake.applyCallbackAnswer(card.ref.messageId, json);
        last = { body, read, apply };
        return deliver(body, read, ENCRYPT_KEY, apply);
      },
      redeliver() {
        if (!last) throw new Error('nothing was delivered yet');
        return deliver(last.body, last.read, ENCRYPT_KEY, last.apply);
      },
      forgedCommand: (as, channel, text) => command(as, channel, text, 'not-the-encrypt-key'),
      async cards(channel) {
        return fake.chatMessages(CHANNEL_IDS[channel]).flatMap((message): CardView<FeishuRef>[] => {
          const requestId = requestIdOf(message);
          if (!requestId) return [];
          if (Buffer.byteLength(JSON.stringify(message.content)) > 30 * 1024)
            throw new Error(`Feishu would refuse card ${message.messageId}: over 30 KB`);
          return [
            {
              ref: { chatId: message.chatId, messageId: message.messageId },
              channel,
              requestId,
              buttons: buttonsOf(message.content),
              commentBox: JSON.stringify(message.content).includes('"tag":"input"'),
              text: cardTexts(message.content).join('\n'),
              mentions: cardMentions(message.content),
            },
          ];
        });
      },
      threadReplies: async (card) => fake.replies(card.ref.messageId).map(readPost),
      channelPosts: async (channel) =>
        fake
          .chatMessages(CHANNEL_IDS[channel])
          .filter((m) => m.msgType === 'post')
          .map(readPost),
      dms: async (person) => fake.chatMessages(`oc_dm_${personId(person)}`).map(readPost),
      idle: () => adapter.idle(),
      close: () => fake.close(),
    };
    return session;
  },
};

runChatConformance(feishuDriver);
