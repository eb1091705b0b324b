import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import express from 'express';
import { CardVersions, renderedDigest } from '../../../adapters/shared/card-versions';
import {
  InboundDispatcher,
  type AnswerInResponseOutcome,
  type Translation,
} from '../../../adapters/shared/inbound-dispatcher';
import { renderPlainText } from '../../../adapters/shared/plain-text';
import { isCardActionId, type ApprovalCard, type CardActionId } from '../../../src/core/card';
import type { ChannelRef, MessageRef, UserRef } from '../../../src/core/model';
import type { HttpMount } from '../../../src/http/server';
import type {
  ChatAdapter,
  ChatCapabilities,
  InboundContext,
  InboundHandler,
  PostMessageOptions,
  ResolvedUser,
} from '../../../src/ports/chat';
import {
  CHANNELS,
  PEOPLE,
  runChatConformance,
  type CardView,
  type Channel,
  type ConformanceDriver,
  type Person,
  type Shown,
} from '../../support/chat-conformance';

// A throwaway platform, unlike Slack in every way the kit allows: the answer and the redrawn card go back in the
// response to a click (answer-in-response, via the shared dispatcher), there are no threads (replies are channel
// posts quoting the request id and mentioning the requester), and a command's answer cannot be shown privately
// (it arrives by DM, as in DingTalk groups). Its transport is a tiny signed JSON webhook on jitbot's server; its
// "servers" are an in-memory world. If the suite passes for this, the kit carries a platform unlike Slack.

// ── the platform (its servers) ──────────────────────────────────────────────────────────────────────────

/** How the fake platform shows a card: plain text lines, buttons, an optional input. */
interface FakeCard {
  requestId: string;
  version: number;
  lines: string[];
  buttons: { id: CardActionId; label: string }[];
  input?: { label: string; maxLength: number };
}

interface WorldMessage {
  id: string;
  conversation: string;
  card?: FakeCard;
  text?: string;
  /** The platform's structured mention (like Feishu's `<at user_id>` element): the only thing that notifies. */
  mention?: string;
}

const CARD_LIMITS = { line: 2000, lines: 60, buttons: 5 };

class FakeWorld {
  readonly messages: WorldMessage[] = [];
  readonly users = new Map<string, { name: string; email: string }>();

  post(conversation: string, content: Omit<WorldMessage, 'id' | 'conversation'>): WorldMessage {
    if (content.card) requireRenderable(content.card);
    const message = { id: `om_${randomUUID()}`, conversation, ...content };
    this.messages.push(message);
    return message;
  }

  /** Replaces a card; an older version than the one shown is refused, as the platform's sequence check would. */
  update(messageId: string, card: FakeCard): void {
    requireRenderable(card);
    const message = this.messages.find((m) => m.id === messageId);
    if (!message?.card) throw new Error(`fake platform: no card ${messageId}`);
    if (card.version >= message.card.version) message.card = card;
  }

  in(conversation: string): WorldMessage[] {
    return this.messages.filter((m) => m.conversation === conversation);
  }
}

function requireRenderable(card: FakeCard): void {
  if (card.lines.length > CARD_LIMITS.lines || card.buttons.length > CARD_LIMITS.buttons)
    throw new Error('fake platform: card too large');
  for (const line of card.lines)
    if (line.length > CARD_LIMITS.line) throw new Error(`fake platform: a line of ${line.length} characters`);
}

const dmConversation = (userId: string) => `dm_${userId}`;

// ── the adapter under test ──────────────────────────────────────────────────────────────────────────────

const SECRET = 'fake-platform-secret';
const EVENTS_PATH = '/fake-platform/events';

interface Delivery {
  id: string;
  type: 'command' | 'click';
  user: string;
  conversation: string;
  text?: string;
  action?: string;
  requestId?: string;
  messageId?: string;
  comment?: string;
}

const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

function render(card: ApprovalCard): FakeCard {
  const line = (text: string) => renderPlainText(text, CARD_LIMITS.line);
  return {
    requestId: card.requestId,
    version: card.version,
    lines: [
      card.title,
      card.statusText,
      ...(card.progress ? [card.progress] : []),
      ...card.notices,
      ...card.fields.map((f) => `${f.label}: ${f.value}`),
      `${card.reasonLabel}: ${card.reason}`,
      ...card.decisions.flatMap((d) => [d.text, ...(d.comment ? [d.comment] : [])]),
      ...(card.footer ? [card.footer] : []),
    ].map(line),
    buttons: card.actions.map((a) => ({ id: a.id, label: a.label })),
    ...(card.commentInput &&
      card.actions.length > 0 && { input: { label: card.commentInput.label, maxLength: card.commentInput.maxLength } }),
  };
}

/** Claims to be `dingtalk` only because platforms are a closed list; nothing of DingTalk's wire format is here. */
class FakePlatformAdapter implements ChatAdapter, HttpMount {
  readonly platform = 'dingtalk' as const;
  readonly capabilities: ChatCapabilities = {
    threads: false,
    privateClickReply: true,
    privateCommandReply: false,
    cardInClickResponse: true,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };
  private readonly versions = new CardVersions();
  private readonly dispatcher: InboundDispatcher;

  constructor(private readonly world: FakeWorld) {
    this.dispatcher = new InboundDispatcher({
      platform: this.platform,
      capabilities: this.capabilities,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      notifyUser: (user, text) => this.notifyUser(user, text),
    });
  }

  mount(app: express.Express): void {
    app.post(EVENTS_PATH, express.text({ type: () => true }), async (req, res) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const outcome = await this.dispatcher.answerInResponse({
        deadlineMs: 2500,
        verify: () =>
          signatureHolds(raw, req.get('x-fake-signature')) ? { ok: true } : { ok: false, reason: 'bad signature' },
        translate: () => this.translate(raw),
      });
      this.answer(res, outcome);
    });
  }

  private translate(raw: string): Translation {
    let delivery: Delivery;
    try {
      delivery = JSON.parse(raw) as Delivery;
    } catch {
      return { kind: 'invalid', status: 400, error: 'not JSON' };
    }
    const user = this.world.users.get(delivery.user);
    const base = {
      platform: this.platform,
      deliveryId: delivery.id,
      actor: { platform: this.platform, userId: delivery.user, displayName: user?.name ?? delivery.user },
      channel: { platform: this.platform, channelId: delivery.conversation },
    };
    if (delivery.type === 'command')
      return { kind: 'event', event: { ...base, kind: 'command', text: delivery.text ?? '' } };
    if (!isCardActionId(delivery.action) || !delivery.requestId || !delivery.messageId) return { kind: 'ignore' };
    return {
      kind: 'event',
      event: {
        ...base,
        kind: 'action',
        action: delivery.action,
        requestId: delivery.requestId,
        ...(delivery.comment && { comment: delivery.comment }),
        message: { platform: this.platform, channelId: delivery.conversation, messageId: delivery.messageId },
      },
    };
  }

  /** The toast and the redrawn card go back in the response; the platform shows the card in place. */
  private answer(res: express.Response, outcome: AnswerInResponseOutcome): void {
    switch (outcome.outcome) {
      case 'refused':
        res.status(401).json({ error: 'bad signature' });
        return;
      case 'invalid':
        res.status(outcome.status).json({ error: outcome.error });
        return;
      case 'handshake':
        res.json(outcome.response);
        return;
      case 'ignored':
        res.json({});
        return;
      case 'pending':
        res.json({ toast: outcome.text });
        return;
      case 'answered': {
        const card = outcome.reply.card && render(outcome.reply.card);
        res.json({ ...(outcome.reply.text && { toast: outcome.reply.text }), ...(card && { card }) });
      }
    }
  }

  async start(onEvent: InboundHandler, context: InboundContext): Promise<void> {
    this.dispatcher.start(onEvent, context);
  }

  stop(): Promise<void> {
    return this.dispatcher.stop();
  }

  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  /** Records a card the platform showed from a click's response, so the outbox's identical redraw is skipped. */
  shownInResponse(messageId: string, card: FakeCard): void {
    this.versions.posted(messageId, card.version, renderedDigest(card));
  }

  async postCard(channel: ChannelRef, card: ApprovalCard): Promise<MessageRef> {
    const rendered = render(card);
    const message = this.world.post(channel.channelId, { card: rendered });
    this.versions.posted(message.id, rendered.version, renderedDigest(rendered));
    return { platform: this.platform, channelId: channel.channelId, messageId: message.id };
  }

  async updateCard(message: MessageRef, card: ApprovalCard): Promise<void> {
    const rendered = render(card);
    await this.versions.update(message.messageId, rendered.version, renderedDigest(rendered), async () =>
      this.world.update(message.messageId, rendered),
    );
  }

  async replyInThread(): Promise<MessageRef> {
    throw new Error('the fake platform has no threads');
  }

  async postMessage(channel: ChannelRef, text: string, options: PostMessageOptions = {}): Promise<MessageRef> {
    const mention = options.mention?.platform === this.platform ? options.mention.userId : undefined;
    const message = this.world.post(channel.channelId, {
      text: renderPlainText(text, 4000),
      ...(mention && { mention }),
    });
    return { platform: this.platform, channelId: channel.channelId, messageId: message.id };
  }

  async notifyUser(user: UserRef, text: string): Promise<void> {
    this.world.post(dmConversation(user.userId), { text: renderPlainText(text, 4000) });
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    const known = this.world.users.get(user.userId);
    if (!known) throw new Error(`fake platform: no user ${user.userId}`);
    return { userId: user.userId, displayName: known.name, email: known.email };
  }
}

function signatureHolds(raw: string, signature: string | undefined): boolean {
  const expected = Buffer.from(sign(raw));
  const given = Buffer.from(signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// ── the driver ──────────────────────────────────────────────────────────────────────────────────────────

interface FakeRef {
  conversation: string;
  messageId: string;
}

const CONVERSATIONS: Record<Channel, string> = { requests: 'oc_requests', ops: 'oc_ops', security: 'oc_security' };
const personId = (person: Person): string => (person === 'named' ? 'ou_NamedApprover' : `ou_${person}`);

const fakeDriver: ConformanceDriver<FakeRef> = {
  platform: 'dingtalk',
  name: 'a throwaway platform (answer in the response, no threads, command answers by DM)',
  personId,
  channelId: (channel) => CONVERSATIONS[channel],
  signed: true,
  async start(boot) {
    const world = new FakeWorld();
    for (const person of PEOPLE)
      world.users.set(personId(person), {
        name: person[0]!.toUpperCase() + person.slice(1),
        email: `${person}@example.com`,
      });
    const adapter = new FakePlatformAdapter(world);
    const { url } = await boot(adapter);
    let last: { body: string; as: Person } | undefined;

    /** Posts a delivery; the private answer is the response's toast, plus the DMs the person got meanwhile. */
    async function deliver(body: string, as: Person, secret?: string) {
      const dmsBefore = world.in(dmConversation(personId(as))).length;
      const response = await fetch(url + EVENTS_PATH, {
        method: 'POST',
        headers: { 'X-Fake-Signature': sign(body, secret) },
        body,
      });
      const answer = (await response.json()) as { toast?: string; card?: FakeCard };
      if (response.ok && answer.card) {
        const { messageId } = JSON.parse(body) as Delivery;
        world.update(messageId!, answer.card);
        adapter.shownInResponse(messageId!, answer.card);
      }
      return {
        status: response.status,
        answers: async () => [
          ...(answer.toast ? [answer.toast] : []),
          ...world
            .in(dmConversation(personId(as)))
            .slice(dmsBefore)
            .map((m) => m.text ?? ''),
        ],
      };
    }
    const send = (delivery: Omit<Delivery, 'id'>, as: Person) => {
      const body = JSON.stringify({ id: randomUUID(), ...delivery });
      last = { body, as };
      return deliver(body, as);
    };
    const shown = (message: WorldMessage): Shown => ({
      text: message.text ?? '',
      mentions: message.mention ? [message.mention] : [],
    });
    const channelOf = (conversation: string) => CHANNELS.find((c) => CONVERSATIONS[c] === conversation)!;

    return {
      command: (as, channel, text) =>
        send({ type: 'command', user: personId(as), conversation: CONVERSATIONS[channel], text }, as),
      click: (as, card, action, comment) =>
        send(
          {
            type: 'click',
            user: personId(as),
            conversation: card.ref.conversation,
            action,
            requestId: card.requestId,
            messageId: card.ref.messageId,
            ...(comment !== undefined && { comment }),
          },
          as,
        ),
      redeliver: () => {
        if (!last) throw new Error('nothing was delivered yet');
        return deliver(last.body, last.as);
      },
      forgedCommand: (as, channel, text) =>
        deliver(
          JSON.stringify({
            id: randomUUID(),
            type: 'command',
            user: personId(as),
            conversation: CONVERSATIONS[channel],
            text,
          }),
          as,
          'wrong-secret',
        ),
      cards: async (channel) =>
        world.in(CONVERSATIONS[channel]).flatMap((message): CardView<FakeRef>[] =>
          message.card
            ? [
                {
                  ref: { conversation: message.conversation, messageId: message.id },
                  channel: channelOf(message.conversation),
                  requestId: message.card.requestId,
                  buttons: message.card.buttons.map((b) => b.id),
                  commentBox: message.card.input !== undefined,
                  text: message.card.lines.join('\n'),
                  mentions: [],
                },
              ]
            : [],
        ),
      channelPosts: async (channel) =>
        world
          .in(CONVERSATIONS[channel])
          .filter((m) => !m.card)
          .map(shown),
      dms: async (person) => world.in(dmConversation(personId(person))).map(shown),
      idle: () => adapter.idle(),
      close: async () => undefined,
    };
  },
};

runChatConformance(fakeDriver);
