import { randomUUID } from 'node:crypto';
import { ConsoleAdapter } from '../../../adapters/console/console-adapter';
import type { ConsoleCard } from '../../../adapters/console/render';
import type { ConsoleMessage, UserStateView } from '../../../adapters/console/workspace';
import {
  CHANNELS,
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

// The console against the chat conformance suite: the page's HTTP API is the "platform". It answers in the
// response, has threads and shows private answers as ephemerals in the conversation; it has no signatures (it
// binds to loopback) and no mention syntax (everything is shown with textContent).

interface ConsoleRef {
  channelId: string;
  messageId: string;
}

const CHANNEL_IDS: Record<Channel, string> = {
  requests: 'requests',
  ops: 'ops-approvals',
  security: 'security-approvals',
};
const personId = (person: Person): string => (person === 'named' ? 'NamedApprover' : person);

function cardText(card: ConsoleCard): string {
  return [
    card.title,
    card.statusText,
    card.progress,
    ...card.notices,
    ...card.fields.map((f) => `${f.label}: ${f.value}`),
    card.reasonLabel,
    card.reason,
    ...card.decisions.flatMap((d) => [d.text, d.comment]),
    card.footer,
  ]
    .filter((line): line is string => line !== undefined)
    .join('\n');
}

/** The console shows every text with textContent: nothing in it notifies anyone. */
const shown = (text: string): Shown => ({ text, mentions: [] });

const consoleDriver: ConformanceDriver<ConsoleRef> = {
  platform: 'console',
  personId,
  channelId: (channel) => CHANNEL_IDS[channel],
  signed: false,
  async start(boot) {
    const adapter = new ConsoleAdapter({
      users: PEOPLE.map((person) => ({
        userId: personId(person),
        displayName: person[0]!.toUpperCase() + person.slice(1),
        description: person,
      })),
      channels: CHANNELS.map((channel) => ({
        id: CHANNEL_IDS[channel],
        name: CHANNEL_IDS[channel],
        private: channel !== 'requests',
      })),
      views: { listRequests: async () => [], listAudit: async () => [] },
      newId: randomUUID,
      now: Date.now,
    });
    const { url } = await boot(adapter);

    const state = async (person: Person): Promise<UserStateView> => {
      const response = await fetch(`${url}/console/api/state?user=${encodeURIComponent(personId(person))}`);
      if (!response.ok) throw new Error(`console state: HTTP ${response.status} ${await response.text()}`);
      return (await response.json()) as UserStateView;
    };
    let last: { path: string; body: Record<string, unknown>; as: Person } | undefined;

    /** POSTs as the page does; the private answer is what the person sees as "only visible to you". */
    async function post(path: string, body: Record<string, unknown>, as: Person): Promise<Sent> {
      last = { path, body, as };
      const seen = new Set((await state(as)).ephemerals.map((e) => e.id));
      const response = await fetch(`${url}/console/api/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.body?.cancel();
      return {
        status: response.status,
        answers: async () => (await state(as)).ephemerals.filter((e) => !seen.has(e.id)).map((e) => e.text),
      };
    }

    const messagesIn = async (channel: Channel): Promise<ConsoleMessage[]> =>
      (await state('requester')).channels.find((c) => c.id === CHANNEL_IDS[channel])!.messages;

    const session: PlatformSession<ConsoleRef> = {
      command: (as, channel, text) =>
        post(
          'command',
          { user: personId(as), channel: CHANNEL_IDS[channel], text: `/jit ${text}`, deliveryId: randomUUID() },
          as,
        ),
      click: (as, card, action, comment) =>
        post(
          'action',
          {
            user: personId(as),
            channel: card.ref.channelId,
            messageId: card.ref.messageId,
            requestId: card.requestId,
            action,
            ...(comment !== undefined && { comment }),
            deliveryId: randomUUID(),
          },
          as,
        ),
      redeliver: () => {
        if (!last) throw new Error('nothing was delivered yet');
        return post(last.path, last.body, last.as);
      },
      async cards(channel) {
        return (await messagesIn(channel)).flatMap((message): CardView<ConsoleRef>[] => {
          const card = message.card;
          if (!card) return [];
          return [
            {
              ref: { channelId: CHANNEL_IDS[channel], messageId: message.id },
              channel,
              requestId: card.requestId,
              buttons: card.actions.map((a) => a.id),
              commentBox: card.commentInput !== undefined,
              ...shown(cardText(card)),
            },
          ];
        });
      },
      async threadReplies(card) {
        const root = (await messagesIn(card.channel)).find((m) => m.id === card.ref.messageId);
        return (root?.thread ?? []).map((reply) => shown(reply.text));
      },
      async channelPosts(channel) {
        return (await messagesIn(channel))
          .filter((m) => !m.card && m.author.kind === 'bot')
          .map((m) => shown(m.text ?? ''));
      },
      async dms(person) {
        return (await state(person)).dms.flatMap((dm) => dm.messages.map((m) => shown(m.text ?? '')));
      },
      idle: () => adapter.idle(),
      close: async () => undefined,
    };
    return session;
  },
};

runChatConformance(consoleDriver);
