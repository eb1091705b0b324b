import pino from 'pino';
import { ADAPTERS } from '../../adapters';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { DryRunGranter } from '../../src/aws/dry-run-granter';
import { parseConfigText } from '../../src/config/load';
import type { JitbotConfig } from '../../src/config/types';
import type { CardActionId } from '../../src/core/card';
import type { Grant, JitRequest, Platform } from '../../src/core/model';
import type { ChatAdapter } from '../../src/ports/chat';

// One suite of chat scenarios that every adapter passes unchanged, each against its own fake platform through a
// small driver (adapters/README.md, "Conformance suite"). The suite speaks only of neutral people, channels and
// cards; the driver knows how its platform delivers a command or a click and shows cards, replies and answers.
// No assertion here may depend on a platform: what differs between platforms is the driver's business.

// ── the scenario ──────────────────────────────────────────────────────────────────────────────────────────

export const RACER_COUNT = 20;
export type Racer = `racer${number}`;
/**
 * The scenario's people. `requester` asks for access (mapped to an IAM user); `ops` approves Level 1 in the ops
 * channel, `security` Level 2 in the security channel; `named` is named in a policy's level (not in a role) and
 * has a mixed-case platform id; `admin` is an admin; `outsider` holds no role; racers are twenty more ops approvers.
 */
export type Person = 'requester' | 'ops' | 'security' | 'named' | 'admin' | 'outsider' | Racer;
/** `requests` is where people type commands; `ops` and `security` speak for the two approver roles. */
export type Channel = 'requests' | 'ops' | 'security';

export const RACERS: Racer[] = Array.from({ length: RACER_COUNT }, (_, i) => `racer${i + 1}` as Racer);
export const PEOPLE: Person[] = ['requester', 'ops', 'security', 'named', 'admin', 'outsider', ...RACERS];
export const CHANNELS: Channel[] = ['requests', 'ops', 'security'];

/** Nodes of the scenario's inventory, by what they are for. */
export const NODES = {
  /** Env=prod: two levels, ops then security. */
  twoLevels: { id: 'i-0123456789abcdef0', name: 'web-1' },
  /** Env=staging: one level, ops. */
  oneLevel: { id: 'i-0aaaabbbbccccdddd', name: 'app-1' },
  /** Env=vault: one level that names `named` besides the ops role. */
  named: { id: 'i-0c0c0c0c0c0c0c0c0', name: 'vault-1' },
  /** Two nodes share this Name tag. */
  ambiguous: { ids: ['i-0b0b0b0b0b0b0b0b1', 'i-0b0b0b0b0b0b0b0b2'], name: 'batch' },
} as const;

/** Text that must stay plain on every platform: mentions of everyone, markup, a script tag. */
export const HOSTILE_REASON =
  '@channel @here <!here> @all <at user_id="all">all</at> <@U0HOSTILE> *bold* _it_ `code` ' +
  '[link](https://example.invalid) <https://example.invalid|click> <b>b</b> <script>alert(1)</script> &amp; # h';
/** 256 CJK characters: the longest reason jitbot takes. */
export const CJK_REASON = '调查内存泄漏并重启服务'.repeat(24).concat('数据库连接池耗尽问题排查').slice(0, 256);

/** Everyone: `@channel`, `@here`, `<!everyone>`, `@all`, `<at user_id="all">`… as a driver reports it. */
export const EVERYONE = '@everyone';

/** The scenario's config for one platform, through the real loader. */
export function scenarioConfig(
  platform: Platform,
  personId: (person: Person) => string,
  channelId: (channel: Channel) => string,
): JitbotConfig {
  const member = (person: Person) => `${platform}:${personId(person)}`;
  const node = (id: string, name: string, tags: Record<string, string>) => ({
    id,
    name,
    account: '111122223333',
    region: 'cn-north-1',
    tags,
    pingStatus: 'Online',
  });
  const raw = {
    locale: 'en',
    timeZone: 'UTC',
    server: { host: '127.0.0.1', port: 0 },
    embedded: { inMemory: true },
    identities: [
      {
        match: { platform, userId: personId('requester') },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/requester' },
        groups: ['developers'],
      },
    ],
    roles: {
      'ops-approvers': { members: [member('ops'), ...RACERS.map(member)], channels: { [platform]: channelId('ops') } },
      'security-leads': { members: [member('security')], channels: { [platform]: channelId('security') } },
    },
    admins: [member('admin')],
    policies: [
      {
        kind: 'manual',
        name: 'production',
        targets: { tags: { Env: 'prod' } },
        levels: [
          { roles: ['ops-approvers'], required: 1 },
          { roles: ['security-leads'], required: 1 },
        ],
      },
      {
        kind: 'manual',
        name: 'vault',
        targets: { tags: { Env: 'vault' } },
        levels: [{ roles: ['ops-approvers'], users: [member('named')], required: 1 }],
      },
      { kind: 'manual', name: 'default', targets: { all: true }, levels: [{ roles: ['ops-approvers'], required: 1 }] },
    ],
    inventory: {
      nodes: [
        node(NODES.twoLevels.id, NODES.twoLevels.name, { Env: 'prod' }),
        node(NODES.oneLevel.id, NODES.oneLevel.name, { Env: 'staging' }),
        node(NODES.named.id, NODES.named.name, { Env: 'vault' }),
        ...NODES.ambiguous.ids.map((id) => node(id, NODES.ambiguous.name, { Env: 'batch' })),
      ],
    },
  };
  const config = parseConfigText(JSON.stringify(raw), `conformance scenario (${platform})`, {
    env: {},
    adapters: ADAPTERS,
  });
  // The adapter under test is handed to jitbot directly; none is built from the config (not even the console).
  config.adapters = {};
  return config;
}

// ── the driver ────────────────────────────────────────────────────────────────────────────────────────────

/** What a person reads, and whom it notifies. */
export interface Shown {
  /** The text as a person reads it: the platform's escapes decoded, markup applied (markers a person would not see removed). */
  text: string;
  /** Who gets notified: platform user ids, or EVERYONE for a channel-wide mention. */
  mentions: string[];
}

/** A card as people in its channel see it. `Ref` is the driver's own handle for clicking it. */
export interface CardView<Ref> extends Shown {
  ref: Ref;
  channel: Channel;
  requestId: string;
  /** The buttons on the card, in order. */
  buttons: CardActionId[];
  /** Whether the card offers a comment box. */
  commentBox: boolean;
}

/** One delivery sent to jitbot. */
export interface Sent {
  /** How jitbot answered the platform: the HTTP status (200 for an acknowledged socket frame). */
  status: number;
  /**
   * Every text shown privately to the person because of this delivery (ephemeral, toast, invoke response, or
   * DM on platforms that answer by DM), in order. Read after the suite waited for jitbot to settle.
   */
  answers(): Promise<string[]>;
}

/** A running fake platform with the adapter under test in front of jitbot. */
export interface PlatformSession<Ref> {
  /** `/jit <text>` typed by `as` in `channel` (text without the `/jit`). */
  command(as: Person, channel: Channel, text: string): Promise<Sent>;
  /** A click on a card's button as `as`, with the comment box filled in when `comment` is given. */
  click(as: Person, card: CardView<Ref>, action: CardActionId, comment?: string): Promise<Sent>;
  /** The platform sends its last delivery again, exactly as it retries one. */
  redeliver(): Promise<Sent>;
  /** Only on platforms that sign or authenticate deliveries: a command whose signature is wrong. */
  forgedCommand?(as: Person, channel: Channel, text: string): Promise<Sent>;
  /** Cards posted in a channel, oldest first, as they look now. */
  cards(channel: Channel): Promise<CardView<Ref>[]>;
  /** Replies in a card's thread (platforms with threads). */
  threadReplies?(card: CardView<Ref>): Promise<Shown[]>;
  /** The bot's plain (non-card) top-level posts in a channel. */
  channelPosts(channel: Channel): Promise<Shown[]>;
  /** The bot's direct messages to a person, oldest first. */
  dms(person: Person): Promise<Shown[]>;
  /** Resolves when the adapter has answered everything it received (its dispatcher's idle, …). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface ConformanceDriver<Ref> {
  platform: Platform;
  /** How the suite's describe block is titled; the platform's name by default. */
  name?: string;
  /** The platform's user id for each person; `named`'s must mix upper and lower case. */
  personId(person: Person): string;
  /** The platform's channel id for each channel. */
  channelId(channel: Channel): string;
  /** The platform signs (or otherwise authenticates) each delivery: the session can forge one (`forgedCommand`). */
  signed: boolean;
  /**
   * Starts the fake platform and the adapter under test, and hands the adapter to `boot`, which starts jitbot
   * with it (the real start-up: core, outbox, HTTP server with the adapter mounted) and gives back jitbot's URL.
   */
  start(boot: (adapter: ChatAdapter) => Promise<{ url: string }>): Promise<PlatformSession<Ref>>;
}

// ── the suite ─────────────────────────────────────────────────────────────────────────────────────────────

class CountingGranter extends DryRunGranter {
  granted = 0;
  revoked = 0;
  override async grant(request: JitRequest, startsAt: number, expiresAt: number): Promise<Grant> {
    this.granted += 1;
    return super.grant(request, startsAt, expiresAt);
  }
  override async revoke(request: JitRequest) {
    this.revoked += 1;
    return super.revoke(request);
  }
}

const REQUEST_ID = /JIT-[0-9A-Z]{5}/;

export function runChatConformance<Ref>(driver: ConformanceDriver<Ref>): void {
  let jitbot: RunningJitbot;
  let session: PlatformSession<Ref>;
  let adapter: ChatAdapter;
  const granter = new CountingGranter();

  beforeAll(async () => {
    const named = driver.personId('named');
    if (named.toLowerCase() === named || named.toUpperCase() === named) {
      throw new Error(`the driver must give "named" a mixed-case id (got ${named})`);
    }
    const config = scenarioConfig(driver.platform, driver.personId, driver.channelId);
    session = await driver.start(async (underTest) => {
      adapter = underTest;
      jitbot = await startJitbot({
        config,
        logger: pino({ level: 'silent' }),
        granter,
        adapters: [underTest],
        port: 0,
        sweepIntervalMs: 0,
        recoveryIntervalMs: 0,
      });
      return { url: jitbot.url };
    });
  });

  afterAll(async () => {
    await jitbot?.stop();
    await session?.close();
  });

  /** Waits until the adapter answered everything and the outbox did everything that follows from it. */
  async function settle(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      await session.idle();
      await jitbot.outbox.idle();
      await jitbot.outbox.recover();
      await jitbot.outbox.idle();
    }
  }

  async function send(sending: Promise<Sent>): Promise<{ sent: Sent; answer: string }> {
    const sent = await sending;
    expect(sent.status).toBe(200);
    await settle();
    return { sent, answer: (await sent.answers()).join('\n') };
  }

  const command = async (as: Person, text: string, channel: Channel = 'requests') =>
    (await send(session.command(as, channel, text))).answer;
  const click = async (as: Person, card: CardView<Ref>, action: CardActionId, comment?: string) =>
    (await send(session.click(as, card, action, comment))).answer;

  function idIn(answer: string): string {
    const match = REQUEST_ID.exec(answer);
    if (!match) throw new Error(`no request id in the answer: ${JSON.stringify(answer)}`);
    return match[0];
  }

  async function submit(node: string, reason = 'conformance check'): Promise<string> {
    const answer = await command('requester', `${node} ${reason}`);
    expect(answer).toContain('Submitted');
    return idIn(answer);
  }

  async function cardsFor(channel: Channel, requestId: string): Promise<CardView<Ref>[]> {
    return (await session.cards(channel)).filter((card) => card.requestId === requestId);
  }

  async function cardFor(channel: Channel, requestId: string): Promise<CardView<Ref>> {
    const cards = await cardsFor(channel, requestId);
    if (cards.length !== 1) throw new Error(`expected one card for ${requestId} in ${channel}, found ${cards.length}`);
    return cards[0]!;
  }

  /** Thread replies, or on platforms without threads the channel's posts that quote the request id. */
  async function repliesTo(card: CardView<Ref>): Promise<Shown[]> {
    if (adapter.capabilities.threads) {
      if (!session.threadReplies)
        throw new Error(`${driver.platform} has threads, so its driver must read them (threadReplies)`);
      return session.threadReplies(card);
    }
    return (await session.channelPosts(card.channel)).filter((post) => post.text.includes(card.requestId));
  }
  const texts = (shown: Shown[]) => shown.map((s) => s.text).join('\n');

  async function stored(requestId: string): Promise<JitRequest> {
    const request = await jitbot.store.getRequest(requestId);
    if (!request) throw new Error(`${requestId} is not stored`);
    return request;
  }

  async function requestsBy(person: Person): Promise<JitRequest[]> {
    return jitbot.store.listRequestsByRequester(driver.platform, driver.personId(person), 1000);
  }

  /** A pending one-level request and its card in the ops channel. */
  async function pendingOneLevel(reason?: string): Promise<{ id: string; card: CardView<Ref> }> {
    const id = await submit(NODES.oneLevel.name, reason);
    return { id, card: await cardFor('ops', id) };
  }

  describe(`chat conformance: ${driver.name ?? driver.platform}`, () => {
    test('request and approve across two levels, in two channels', async () => {
      const id = await submit(NODES.twoLevels.name, 'fix nginx');
      const opsCard = await cardFor('ops', id);
      expect(opsCard.buttons).toEqual(['approve', 'reject']);
      expect(opsCard.commentBox).toBe(true);
      expect(opsCard.text).toContain(NODES.twoLevels.name);
      expect(opsCard.text).toContain('fix nginx');
      expect(await cardsFor('security', id)).toEqual([]);

      expect(await click('ops', opsCard, 'approve', 'checked the change ticket')).toContain(
        `Recorded your approval of ${id}`,
      );
      const securityCard = await cardFor('security', id);
      expect(securityCard.buttons).toEqual(['approve', 'reject']);
      expect(securityCard.text).toContain('Level 2 of 2');
      const levelOne = await cardFor('ops', id);
      expect(levelOne.buttons).toEqual([]);
      expect(levelOne.commentBox).toBe(false);
      expect(levelOne.text).toContain('Waiting for Level 2 of 2');
      expect(texts(await repliesTo(levelOne))).toContain('checked the change ticket');

      expect(await click('security', securityCard, 'approve', 'ok for an hour')).toContain(
        `Recorded your approval of ${id}`,
      );
      expect((await stored(id)).status).toBe('active');
      const finalCard = await cardFor('security', id);
      expect(finalCard.text).toContain('Access active until');
      expect(finalCard.buttons).toEqual(['revoke']);
      const replies = texts(await repliesTo(finalCard));
      expect(replies).toContain('ok for an hour');
      expect(replies).toContain(`aws ssm start-session --target ${NODES.twoLevels.id}`);
      expect(texts(await session.dms('requester'))).toContain(`Your request ${id}`);
    });

    test('reject with a comment: the comment is on the card, in the replies and in the DM', async () => {
      const { id, card } = await pendingOneLevel();
      const comment = 'use the scheduler instead';
      expect(await click('ops', card, 'reject', comment)).toContain(`Recorded your rejection of ${id}`);
      expect((await stored(id)).status).toBe('rejected');
      const rejected = await cardFor('ops', id);
      expect(rejected.text).toContain(comment);
      expect(rejected.text).toContain('Rejected by');
      expect(texts(await repliesTo(rejected))).toContain(comment);
      const dm = texts(await session.dms('requester'));
      expect(dm).toContain(`Your request ${id}`);
      expect(dm).toContain(comment);
    });

    test('self-approval is refused and changes nothing', async () => {
      const { id, card } = await pendingOneLevel();
      const before = await stored(id);
      expect(await click('requester', card, 'approve')).toContain(`You requested ${id}; someone else must decide it.`);
      expect(await stored(id)).toMatchObject({ status: 'pending', version: before.version, decisions: [] });
      expect((await cardFor('ops', id)).buttons).toEqual(['approve', 'reject']);
    });

    test('a non-approver is refused and changes nothing', async () => {
      const { id, card } = await pendingOneLevel();
      const before = await stored(id);
      expect(await click('outsider', card, 'approve')).toContain(`You are not an approver for Level 1 of ${id}`);
      expect(await stored(id)).toMatchObject({ status: 'pending', version: before.version, decisions: [] });
    });

    test('a click in a channel that does not speak for the open level is refused', async () => {
      const id = await submit(NODES.twoLevels.name);
      const opsCard = await cardFor('ops', id);
      await click('ops', opsCard, 'approve');
      const before = await stored(id);
      // Level 2's approver clicks the Level 1 card (their old view of it still had buttons).
      expect(await click('security', opsCard, 'approve')).toContain('This channel does not speak for security-leads');
      expect(await stored(id)).toMatchObject({ status: 'pending', currentLevel: 1, version: before.version });
      expect((await cardFor('security', id)).buttons).toEqual(['approve', 'reject']);
    });

    test('a double click gets a clear error and changes nothing', async () => {
      const { id, card } = await pendingOneLevel();
      expect(await click('ops', card, 'approve')).toContain(`Recorded your approval of ${id}`);
      const granted = granter.granted;
      const after = await stored(id);
      const shown = await cardFor('ops', id);
      expect(await click('ops', card, 'approve')).toMatch(new RegExp(`${id} was already (approved|active) by `));
      expect(await stored(id)).toMatchObject({
        status: after.status,
        version: after.version,
        decisions: after.decisions,
      });
      expect(granter.granted).toBe(granted);
      const again = await cardFor('ops', id);
      expect({ text: again.text, buttons: again.buttons }).toEqual({ text: shown.text, buttons: shown.buttons });
    });

    test(`${RACER_COUNT} approvers click at once: exactly one decision, the others hear "already …"`, async () => {
      const { id, card } = await pendingOneLevel();
      const granted = granter.granted;
      const sent = await Promise.all(RACERS.map((racer) => session.click(racer, card, 'approve')));
      expect(sent.map((s) => s.status)).toEqual(RACERS.map(() => 200));
      await settle();
      const answers = await Promise.all(sent.map(async (s) => (await s.answers()).join('\n')));
      expect(answers.filter((a) => a.includes(`Recorded your approval of ${id}`))).toHaveLength(1);
      expect(answers.filter((a) => new RegExp(`${id} was already (approved|active) by `).test(a))).toHaveLength(
        RACER_COUNT - 1,
      );
      const request = await stored(id);
      expect(request.decisions).toHaveLength(1);
      expect(request.status).toBe('active');
      expect(granter.granted - granted).toBe(1);
      expect((await cardFor('ops', id)).buttons).toEqual(['revoke']);
    });

    test('a redelivered command and a redelivered click do nothing twice', async () => {
      const before = new Set((await requestsBy('requester')).map((r) => r.id));
      await send(session.command('requester', 'requests', `${NODES.oneLevel.name} redelivery check`));
      await send(session.redeliver());
      const created = (await requestsBy('requester')).filter((r) => !before.has(r.id));
      expect(created).toHaveLength(1);
      const id = created[0]!.id;
      expect(await cardsFor('ops', id)).toHaveLength(1);

      const granted = granter.granted;
      await send(session.click('ops', await cardFor('ops', id), 'approve', 'once only'));
      await send(session.redeliver());
      const request = await stored(id);
      expect(request.decisions).toHaveLength(1);
      expect(granter.granted - granted).toBe(1);
      const replies = texts(await repliesTo(await cardFor('ops', id)));
      expect(replies.split('once only')).toHaveLength(2);
    });

    // Only on platforms that sign their deliveries; the others are authenticated by their transport (loopback).
    const onSignedPlatforms = driver.signed ? test : () => undefined;
    onSignedPlatforms('a badly signed request is refused with 401 and stores nothing', async () => {
      if (!session.forgedCommand)
        throw new Error(`${driver.platform} signs its deliveries, so its driver must forge one (forgedCommand)`);
      const before = (await requestsBy('requester')).length;
      const cards = (await session.cards('ops')).length;
      const sent = await session.forgedCommand('requester', 'requests', `${NODES.oneLevel.name} forged`);
      expect(sent.status).toBe(401);
      await settle();
      expect(await sent.answers()).toEqual([]);
      expect(await requestsBy('requester')).toHaveLength(before);
      expect(await session.cards('ops')).toHaveLength(cards);
    });

    test('a named approver with a mixed-case id approves and revokes', async () => {
      const id = await submit(NODES.named.name, 'rotate the vault keys');
      const card = await cardFor('ops', id);
      expect(await click('outsider', card, 'approve')).toContain('You are not an approver');
      expect(await click('named', card, 'approve')).toContain(`Recorded your approval of ${id}`);
      const active = await cardFor('ops', id);
      expect(active.buttons).toEqual(['revoke']);
      expect(await click('outsider', active, 'revoke')).toContain(
        `Only the requester, an approver of ${id} or an admin can revoke it.`,
      );
      const revoked = granter.revoked;
      expect(await click('named', active, 'revoke')).toContain(`Revoking ${id}`);
      expect((await stored(id)).status).toBe('revoked');
      expect(granter.revoked - revoked).toBe(1);
      const after = await cardFor('ops', id);
      expect(after.buttons).toEqual([]);
      expect(after.text).toContain('Revoked by');
      expect(texts(await session.dms('requester'))).toContain(`(${id}) was revoked by`);
    });

    test('an admin revokes with a command', async () => {
      const { id, card } = await pendingOneLevel();
      await click('ops', card, 'approve');
      expect(await command('admin', `revoke ${id}`)).toContain(`Revoking ${id}`);
      expect((await stored(id)).status).toBe('revoked');
    });

    test('cancel: only the requester may; the card loses its buttons', async () => {
      const { id } = await pendingOneLevel();
      expect(await command('outsider', `cancel ${id}`)).toContain(`can cancel ${id}`);
      expect((await stored(id)).status).toBe('pending');
      expect(await command('requester', `cancel ${id}`)).toContain(`Cancelled ${id}.`);
      expect((await stored(id)).status).toBe('cancelled');
      const card = await cardFor('ops', id);
      expect(card.buttons).toEqual([]);
      expect(card.commentBox).toBe(false);
      expect(card.text).toContain('Cancelled');
    });

    test('an ambiguous Name tag gets a clear message listing the candidates, and nothing is created', async () => {
      const before = (await requestsBy('requester')).length;
      const answer = await command('requester', `${NODES.ambiguous.name} rerun the job`);
      expect(answer).toContain(`Several nodes are named "${NODES.ambiguous.name}"`);
      for (const candidate of NODES.ambiguous.ids) expect(answer).toContain(candidate);
      expect(await requestsBy('requester')).toHaveLength(before);
    });

    test.each([
      ['mentions, markup and a script tag', HOSTILE_REASON],
      ['256 CJK characters', CJK_REASON],
    ])('a hostile reason (%s) is shown as plain text and notifies nobody', async (_what, reason) => {
      const { id, card } = await pendingOneLevel(reason);
      expect(card.text).toContain(reason);
      expect(card.mentions).toEqual([]);
      expect(card.buttons).toEqual(['approve', 'reject']);
      await click('ops', card, 'reject', reason.slice(0, 200));
      const rejected = await cardFor('ops', id);
      expect(rejected.text).toContain(reason.slice(0, 200));
      expect(rejected.mentions).toEqual([]);
      // Replies may mention the requester (platforms without threads do), never anyone else.
      const requester = driver.personId('requester');
      for (const shown of [...(await repliesTo(rejected)), ...(await session.dms('requester'))]) {
        expect(shown.mentions.filter((m) => m !== requester)).toEqual([]);
      }
      expect(await command('requester', `status ${id}`)).toContain(reason);
    });

    test('the card loses its buttons and comment box once decided, everywhere it was posted', async () => {
      const approved = await pendingOneLevel();
      expect(approved.card.commentBox).toBe(true);
      await click('ops', approved.card, 'approve');
      const active = await cardFor('ops', approved.id);
      expect(active.buttons).toEqual(['revoke']);
      expect(active.commentBox).toBe(false);

      const rejected = await pendingOneLevel();
      await click('ops', rejected.card, 'reject');
      const done = await cardFor('ops', rejected.id);
      expect(done.buttons).toEqual([]);
      expect(done.commentBox).toBe(false);
    });
  });
}
