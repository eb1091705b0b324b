import pino from 'pino';
import { ADAPTERS } from '../adapters';
import { assemble, type Assembled } from '../src/app';
import { DryRunGranter } from '../src/aws/dry-run-granter';
import { parseConfigText } from '../src/config/load';
import type { JitbotConfig } from '../src/config/types';
import type { ApprovalCard } from '../src/core/card';
import type { ChannelRef, MessageRef, Platform, UserRef } from '../src/core/model';
import { StaticInventory } from '../src/inventory/static-inventory';
import type {
  ActionEvent,
  ChatAdapter,
  ChatCapabilities,
  CommandEvent,
  InboundHandler,
  ResolvedUser,
} from '../src/ports/chat';
import type { Clock } from '../src/ports/clock';
import type { Store } from '../src/ports/store';

// jitbot's service as the server wires it (assemble(): service, outbox, dry-run granter), with a chat adapter that
// only counts what it is asked to do, so the benchmark measures jitbot and not a chat platform.

/** A node the config's one-level "default" policy covers: one approval from ops-approvers makes it approved. */
export const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';
/**
 * Requests rotate over this many people. One person has only a few active grants at a time (an IAM user's inline
 * policy holds about four statements), and a grant's dry-run detail renders its holder's whole policy, so one
 * requester with thousands of grants would measure something no deployment does.
 */
export const REQUESTERS = 200;
export const APPROVER = 'alice';
export const APPROVAL_CHANNEL = 'ops-approvals';

const identities = Array.from({ length: REQUESTERS }, (_, i) =>
  [
    `  - match: { platform: console, userId: dev${i} }`,
    `    principal: { kind: iam-user, arn: "arn:aws-cn:iam::111122223333:user/dev${i}" }`,
    `    groups: [developers]`,
    `  - match: { platform: slack, userId: ${slackRequester(i)} }`,
    `    principal: { kind: iam-user, arn: "arn:aws-cn:iam::111122223333:user/dev${i}" }`,
    `    groups: [developers]`,
  ].join('\n'),
).join('\n');

/** The Slack user id of requester i. */
export function slackRequester(i: number): string {
  return `U0DEV${i}`;
}

/**
 * Requesters dev0…dev199 (console) and U0DEV0…U0DEV199 (Slack), each an IAM user; Alice approves for
 * ops-approvers in \`ops-approvals\` (console) and \`C0APPROVALS\` (Slack). The demo fleet; no AWS (dry run).
 */
export const BENCH_CONFIG_YAML = `
locale: en
timeZone: UTC
identities:
${identities}
roles:
  ops-approvers:
    members: ["console:${APPROVER}", "slack:U0ALICE"]
    channels: { console: ${APPROVAL_CHANNEL}, slack: C0APPROVALS }
admins: []
policies:
  - kind: manual
    name: default
    targets: { all: true }
    levels:
      - { roles: [ops-approvers], required: 1 }
inventory:
  demo: true
`;

export function benchConfig(extraYaml = '', env: Record<string, string> = {}): JitbotConfig {
  return parseConfigText(`${BENCH_CONFIG_YAML}${extraYaml}`, 'bench', { env, adapters: ADAPTERS });
}

/** Counts what jitbot asks of the chat platform; answers at once (console-like, Slack's capabilities). */
export class CountingChat implements ChatAdapter {
  readonly capabilities: ChatCapabilities = {
    threads: true,
    privateClickReply: true,
    privateCommandReply: true,
    cardInClickResponse: false,
    inlineInputs: true,
    updateInPlace: true,
    emailLookup: true,
  };
  readonly calls = { postCard: 0, updateCard: 0, replyInThread: 0, postMessage: 0, notifyUser: 0 };
  private seq = 0;

  constructor(readonly platform: Platform = 'console') {}

  async start(_onEvent: InboundHandler): Promise<void> {}
  async stop(): Promise<void> {}

  async postCard(channel: ChannelRef, _card: ApprovalCard): Promise<MessageRef> {
    this.calls.postCard++;
    return { platform: this.platform, channelId: channel.channelId, messageId: `m${++this.seq}` };
  }

  async updateCard(_message: MessageRef, _card: ApprovalCard): Promise<void> {
    this.calls.updateCard++;
  }

  async replyInThread(message: MessageRef, _text: string): Promise<MessageRef> {
    this.calls.replyInThread++;
    return { ...message, messageId: `r${++this.seq}`, threadId: message.messageId };
  }

  async postMessage(channel: ChannelRef): Promise<MessageRef> {
    this.calls.postMessage++;
    return { platform: this.platform, channelId: channel.channelId, messageId: `p${++this.seq}` };
  }

  async notifyUser(): Promise<void> {
    this.calls.notifyUser++;
  }

  async resolveUser(user: UserRef): Promise<ResolvedUser> {
    return { userId: user.userId, displayName: user.displayName };
  }
}

export interface BenchJitbot extends Assembled {
  chat: CountingChat;
}

/** The service, outbox and scheduler on `store`, as `startJitbot` assembles them (no HTTP, no timers). */
export function assembleBenchJitbot(store: Store, clock: Clock, config = benchConfig()): BenchJitbot {
  const chat = new CountingChat('console');
  const assembled = assemble({
    config,
    store,
    granter: new DryRunGranter(),
    inventory: new StaticInventory(config.inventory.nodes),
    adapters: [chat],
    clock,
    logger: pino({ level: 'silent' }),
    owner: 'bench',
  });
  return { ...assembled, chat };
}

const person = (userId: string): UserRef => ({
  platform: 'console',
  userId,
  displayName: userId[0]!.toUpperCase() + userId.slice(1),
});

/** `/jit <node> <reason>` from requester `n mod REQUESTERS`. */
export function requestCommand(deliveryId: string, reason: string, n: number): CommandEvent {
  return {
    kind: 'command',
    platform: 'console',
    deliveryId,
    actor: person(`dev${n % REQUESTERS}`),
    channel: { platform: 'console', channelId: 'requests' },
    text: `${ONE_LEVEL_NODE} ${reason}`,
  };
}

export function approveClick(deliveryId: string, requestId: string, message?: MessageRef): ActionEvent {
  return {
    kind: 'action',
    platform: 'console',
    deliveryId,
    actor: person(APPROVER),
    channel: { platform: 'console', channelId: APPROVAL_CHANNEL },
    action: 'approve',
    requestId,
    ...(message && { message }),
  };
}

/** The request id in a reply like "Submitted JIT-7K3Q2 …". */
export function requestIdIn(text: string | undefined): string | undefined {
  return /JIT-[0-9A-Z]{5}/.exec(text ?? '')?.[0];
}
