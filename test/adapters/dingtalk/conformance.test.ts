import { randomUUID } from 'node:crypto';
import { DingTalkAdapter } from '../../../adapters/dingtalk/dingtalk-adapter';
import { TOPIC_CARD_CALLBACK, TOPIC_ROBOT_MESSAGE } from '../../../adapters/dingtalk/stream-client';
import { CARD_ACTION_IDS, type CardActionId } from '../../../src/core/card';
import { adapterOptionsFor, FakeDingTalk, type FakeCard, type StreamAck } from '../../support/fake-dingtalk';
import {
  EVERYONE,
  PEOPLE,
  runChatConformance,
  type CardView,
  type Channel,
  type ConformanceDriver,
  type Person,
  type Sent,
  type Shown,
} from '../../support/chat-conformance';
import { cardCallback, robotMessage, visibleText } from './dingtalk-payloads';

// The chat conformance suite, unchanged, over DingTalk's Stream mode: commands are robot messages (@jitbot in a
// group), clicks are card callbacks, both sent as CALLBACK frames by the fake gateway. What a person is told
// privately is the note in the click's ack (the card's private data) and the robot's DMs.

const CHANNEL_IDS: Record<Channel, string> = {
  requests: 'cidRequests==',
  ops: 'cidOps+Approvers==',
  security: 'cidSecurity/Leads==',
};

function personId(person: Person): string {
  // `named` must mix upper and lower case; DingTalk userids are the org's own strings.
  return person === 'named' ? 'ZhangSan01' : `user_${person}`;
}

const displayName = (person: Person) => person.charAt(0).toUpperCase() + person.slice(1);

interface Frame {
  topic: string;
  data: unknown;
  messageId: string;
  person: Person;
}

const driver: ConformanceDriver<FakeCard> = {
  platform: 'dingtalk',
  name: 'DingTalk (Stream mode)',
  personId,
  channelId: (channel) => CHANNEL_IDS[channel],
  signed: false,
  async start(boot) {
    const fake = await FakeDingTalk.start({
      users: PEOPLE.map((person) => ({ userid: personId(person), name: displayName(person) })),
    });
    const adapter = new DingTalkAdapter(adapterOptionsFor(fake, { cardTemplateId: 'jitbot-approval.schema' }));
    await boot(adapter);
    let last: Frame | undefined;

    const dmsTo = (person: Person) =>
      fake.messages
        .filter((m) => m.kind === 'direct' && (m.to as string[]).includes(personId(person)))
        .map((m) => String(m.msgParam.content ?? m.msgParam.text));

    /** Sends a frame; the person's answers are the ack's note (clicks) and the DMs that followed. */
    async function send(frame: Frame): Promise<Sent> {
      last = frame;
      const dmsBefore = dmsTo(frame.person).length;
      let ack: StreamAck;
      try {
        ack = await fake.sendCallback(frame.topic, frame.data, { messageId: frame.messageId, timeoutMs: 60_000 });
      } catch {
        return { status: 500, answers: async () => [] };
      }
      const note = visibleText(String(ack.data?.response?.userPrivateData?.cardParamMap?.note ?? ''));
      return {
        status: ack.code,
        answers: async () => [...(note ? [note] : []), ...dmsTo(frame.person).slice(dmsBefore)],
      };
    }

    // Robot messages (sampleText / sampleMarkdown) have no mention field: their text notifies nobody.
    const shown = (text: string): Shown => ({ text, mentions: [] });

    return {
      command: (as, channel, text) =>
        send({
          topic: TOPIC_ROBOT_MESSAGE,
          data: robotMessage({ text, userId: personId(as), nick: displayName(as), group: CHANNEL_IDS[channel] }),
          messageId: randomUUID(),
          person: as,
        }),
      click: (as, card, action, comment) =>
        send({
          topic: TOPIC_CARD_CALLBACK,
          data: cardCallback({
            requestId: card.requestId,
            channelId: CHANNEL_IDS[card.channel],
            action,
            userId: personId(as),
            ...(comment !== undefined && { comment }),
          }),
          messageId: randomUUID(),
          person: as,
        }),
      redeliver: () => {
        if (!last) throw new Error('nothing was delivered yet');
        return send(last);
      },
      cards: async (channel) =>
        [...fake.cards.values()]
          .filter((card) => card.openSpaceId === `dtv1.card//IM_GROUP.${CHANNEL_IDS[channel]}`)
          .map((card): CardView<FakeCard> => {
            const data = card.cardParamMap;
            const flag = (action: CardActionId) =>
              data[`can${action.charAt(0).toUpperCase()}${action.slice(1)}`] === 'true';
            return {
              ref: card,
              channel,
              requestId: data.requestId ?? '',
              // Text in a card never notifies: DingTalk notifies only the delivery's atUserIds (`@ALL` for everyone).
              text: visibleText(data.markdown ?? ''),
              mentions: Object.keys(card.deliver?.atUserIds ?? {}).map((id) => (id === '@ALL' ? EVERYONE : id)),
              buttons: CARD_ACTION_IDS.filter(flag),
              commentBox: data.showComment === 'true',
            };
          }),
      channelPosts: async (channel) =>
        fake.messages
          .filter((m) => m.kind === 'group' && m.to === CHANNEL_IDS[channel])
          .map((m) => shown(visibleText(String(m.msgParam.text ?? m.msgParam.content)))),
      dms: async (person) => dmsTo(person).map(shown),
      idle: () => adapter.idle(),
      close: () => fake.close(),
    };
  },
};

runChatConformance(driver);
