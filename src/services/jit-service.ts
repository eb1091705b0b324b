import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { parseCommand, type Command } from '../core/command';
import { formatDuration } from '../core/duration';
import type { Locale } from '../core/i18n/catalog';
import type { ChannelRef, JitRequest, UserRef } from '../core/model';
import { personFacts, type Person } from '../core/authority';
import { statusText } from '../core/card-builder';
import { describeApprovers, excerpt, nodeLabel, personKey, samePerson } from '../core/labels';
import { evaluatePolicies } from '../core/policy';
import type { Policy } from '../core/policy-model';
import {
  cancel,
  decide,
  newRequest,
  revoke,
  type Refusal,
  type TransitionContext,
  type TransitionResult,
} from '../core/transitions';
import { formatRequestId } from '../core/request-id';
import type { ActionEvent, CommandEvent, InboundEvent, InboundIntake, Reply } from '../ports/chat';
import type { Clock } from '../ports/clock';
import type { Inventory } from '../ports/inventory';
import type { Store } from '../ports/store';
import type { JitbotConfig } from '../config/types';
import { resolveRequester } from '../core/identity';
import type { AdapterRegistry } from './adapter-registry';
import type { ChannelRoles } from './channel-roles';
import { deliveryKey, InboundReplay } from './inbound-replay';
import { logLifecycle, type LifecycleEvent } from './lifecycle-log';
import { Messages } from './messages';
import { updateRequest } from './update-request';

export interface JitServiceSettings {
  locale: Locale;
  timeZone: string;
  policies: Policy[];
  warnBeforeMs: number;
  deliveryDedupeMs: number;
  /** An unprocessed event older than this when a replay reaches it is dropped (the person is told). */
  replayMaxAgeMs: number;
}

export interface JitServiceDeps {
  store: Store;
  inventory: Inventory;
  clock: Clock;
  /** Identities, approver roles and admins from the config. */
  access: Pick<JitbotConfig, 'identities' | 'roles' | 'admins'>;
  channelRoles: ChannelRoles;
  adapters: AdapterRegistry;
  /** Called after every committed change so the outbox performs its effects promptly. */
  onCommitted: (requestId: string) => void;
  /** Fresh short request id (JIT-XXXXX). */
  newRequestId: () => string;
  /** Identifies this replica in leases (replaying an inbound event takes one). */
  owner: string;
  logger: Logger;
  settings: JitServiceSettings;
}

const LIST_LIMIT = 10;
/** What a person typed is cut to this many code points before it is audited. */
const AUDIT_EXCERPT_LENGTH = 100;

/** What a committed change tells the person, given the version before it and the one written. */
type DoneText = (saved: JitRequest, previous: JitRequest) => string;

/**
 * The one place where chat commands and card clicks become state changes. Adapters call `handle` with
 * neutral events; every change is a compare-and-set on the request's version, and its side effects are
 * queued in the request's outbox in the same write.
 */
export class JitService {
  private readonly messages: Messages;
  /**
   * Events being replayed after a restart. A crash may have come after their change was saved but before they were
   * marked processed: for these, finding their own change already there is success, not a refusal.
   */
  private readonly replaying = new WeakSet<InboundEvent>();
  /** Delivery keys being processed here: a replay pass leaves them alone. */
  private readonly inFlight = new Set<string>();

  private readonly replay: InboundReplay;

  constructor(private readonly deps: JitServiceDeps) {
    this.messages = new Messages(deps.settings.locale, deps.settings.timeZone);
    this.replay = new InboundReplay({
      store: deps.store,
      clock: deps.clock,
      adapters: deps.adapters,
      owner: deps.owner,
      logger: deps.logger,
      locale: deps.settings.locale,
      timeZone: deps.settings.timeZone,
      maxAgeMs: deps.settings.replayMaxAgeMs,
      admins: deps.access.admins,
      process: (event) => this.processReplayed(event),
      markProcessed: (event) => this.markProcessed(event),
      inFlight: (event) => this.inFlight.has(deliveryKey(event)),
    });
  }

  /**
   * The durable intake the adapters' dispatcher uses: an event is stored (and its delivery id claimed) before the
   * platform is acknowledged, then processed and marked processed. What a crash leaves in between is replayed by
   * `replayUnprocessed` at the next start.
   */
  readonly intake: InboundIntake = {
    receive: (event) =>
      this.deps.store.recordInboundEvent(event, this.deps.clock.now(), this.deps.settings.deliveryDedupeMs),
    process: (event) => this.process(event),
    answered: (event) => this.markProcessed(event),
  };

  /** Handles one event from start to end (store, process): for transports without the two-step intake. */
  readonly handle = async (event: InboundEvent): Promise<Reply> => {
    const { logger } = this.deps;
    let fresh: boolean;
    try {
      fresh = await this.intake.receive(event);
    } catch (error) {
      const ref = event.deliveryId.slice(-8);
      logger.error({ err: error, platform: event.platform, ref }, 'could not store an inbound event');
      return this.messages.error('error.internal', { ref });
    }
    if (!fresh) {
      logger.info({ platform: event.platform, deliveryId: event.deliveryId }, 'duplicate delivery ignored');
      return { kind: 'none' };
    }
    const reply = await this.process(event);
    await this.markProcessed(event);
    return reply;
  };

  /**
   * Processes (or, when too old or failing again and again, drops) the inbound events a crash left stored but
   * unprocessed: see InboundReplay. Returns how many were replayed.
   */
  replayUnprocessed(options: { receivedBefore: number }): Promise<number> {
    return this.replay.run(options);
  }

  private async processReplayed(event: InboundEvent): Promise<Reply> {
    this.replaying.add(event);
    try {
      return await this.process(event);
    } finally {
      this.replaying.delete(event);
    }
  }

  /**
   * Runs a stored event; it is marked processed once the person has the answer (`markProcessed`). A failure
   * forgets it instead (the person is told, and their retry, or the platform's, is then processed rather than
   * swallowed as a duplicate).
   */
  private async process(event: InboundEvent): Promise<Reply> {
    const { store, logger } = this.deps;
    const ref = event.deliveryId.slice(-8);
    const key = deliveryKey(event);
    let reply: Reply;
    this.inFlight.add(key);
    try {
      reply = event.kind === 'command' ? await this.onCommand(event) : await this.onAction(event);
    } catch (error) {
      logger.error({ err: error, platform: event.platform, ref }, 'inbound event failed');
      await store.releaseDelivery(event.platform, event.deliveryId).catch((releaseError: unknown) => {
        logger.warn({ err: releaseError, ref }, 'could not release the delivery id; a retry will be ignored');
      });
      return this.messages.error('error.internal', { ref });
    } finally {
      this.inFlight.delete(key);
    }
    return reply;
  }

  /** Done with an event: it is not replayed. Failing here is harmless beyond a log line (a replay finds its change). */
  private async markProcessed(event: InboundEvent): Promise<void> {
    await this.deps.store.markInboundEventProcessed(event.platform, event.deliveryId).catch((error: unknown) => {
      this.deps.logger.warn(
        { err: error, ref: event.deliveryId.slice(-8) },
        'could not mark an inbound event processed; it may be replayed after a restart',
      );
    });
  }

  // ── commands ──────────────────────────────────────────────────────────────────────────────────────────

  private async onCommand(event: CommandEvent): Promise<Reply> {
    const parsed = parseCommand(event.text);
    if (!parsed.ok) {
      // The message key says what was wrong; what was typed is not audited (it may hold anything).
      const text = `${this.messages.say(parsed.error.key, parsed.error.params)}\n${this.messages.say('usage')}`;
      return this.refused(event, 'bad_input', { kind: 'error', text }, { problem: parsed.error.key });
    }
    const command = parsed.command;
    switch (command.kind) {
      case 'help':
        return this.messages.info('help');
      case 'request':
        return this.submit(event, command);
      case 'list':
        return this.list(event.actor);
      case 'status':
        return this.status(command.requestId);
      case 'cancel': {
        const person = await this.person(event.actor, event.channel);
        const done: DoneText = (saved) => this.messages.say('cancel.done', { id: saved.id });
        return this.change(
          command.requestId,
          event,
          'request',
          (request, ctx) => cancel(request, person, ctx, event.deliveryId),
          done,
        );
      }
      case 'revoke':
        return this.revoke(command.requestId, event);
      case 'admin':
        return this.admin(event, command);
    }
  }

  private async submit(event: CommandEvent, command: Extract<Command, { kind: 'request' }>): Promise<Reply> {
    const { access, inventory, store, settings } = this.deps;
    const resolved = await this.deps.adapters.resolveUser(event.actor, event.channel);
    const identity = resolveRequester(access, { ...event.actor, email: resolved?.email });
    const asker = personFacts(access, { ...event.actor, email: resolved?.email });
    // A refused request is audited with what was asked for (node, duration), never with the reason text.
    let asked: Record<string, unknown> = {
      node: excerpt(command.node, AUDIT_EXCERPT_LENGTH),
      ...(command.durationMs !== undefined && { durationMs: command.durationMs }),
    };
    const refused = (outcome: string, reply: Reply, detail: Record<string, unknown> = {}): Promise<Reply> => {
      logLifecycle(this.deps.logger, 'request', {
        actor: personKey(event.actor),
        node: command.node,
        outcome: `refused:${outcome}`,
      });
      return this.refused(event, outcome, reply, { ...asked, ...detail });
    };
    if (!identity.principal) {
      const user = personKey(event.actor);
      return refused(
        'unmapped',
        asker.admin
          ? this.messages.error('request.unmapped_admin', { user })
          : this.messages.error('request.unmapped', { admins: this.adminsLabel(), user }),
      );
    }
    const lookup = await inventory.resolve(command.node);
    if (lookup.kind === 'not_found')
      return refused('node_not_found', this.messages.error('request.node_not_found', { query: command.node }));
    if (lookup.kind === 'ambiguous') {
      const choices = lookup.nodes.map((n) => `${n.id} (${n.account}, ${n.region})`).join('; ');
      return refused(
        'node_ambiguous',
        this.messages.error('request.node_ambiguous', { query: command.node, choices }),
        { matches: lookup.nodes.length },
      );
    }
    const node = lookup.node;
    const label = nodeLabel(node);
    asked = { ...asked, nodeId: node.id, account: node.account, region: node.region };
    if (node.state === 'terminated')
      return refused('node_terminated', this.messages.error('request.node_terminated', { node: label }));
    const outcome = evaluatePolicies(settings.policies, {
      node,
      requesterGroups: identity.groups,
      durationMs: command.durationMs,
    });
    switch (outcome.kind) {
      case 'none':
        return refused(
          'no_policy',
          asker.admin
            ? this.messages.error('request.no_policy_admin', { node: label })
            : this.messages.error('request.no_policy', { node: label, admins: this.adminsLabel() }),
        );
      case 'ambiguous':
        return refused(
          'ambiguous_policy',
          this.messages.error('request.ambiguous_policy', {
            first: outcome.policies[0].name,
            second: outcome.policies[1].name,
            node: label,
          }),
          { policies: outcome.policies.map((p) => p.name) },
        );
      case 'deny':
        return refused(
          'denied',
          this.messages.error('request.denied', { policy: outcome.policy.name, message: outcome.policy.message }),
          {
            policy: outcome.policy.name,
          },
        );
      case 'duration_out_of_bounds':
        return refused(
          'duration_bounds',
          this.messages.error('request.duration_bounds', {
            duration: formatDuration(outcome.requestedMs),
            policy: outcome.policy.name,
            min: formatDuration(outcome.minMs),
            max: formatDuration(outcome.maxMs),
          }),
          { policy: outcome.policy.name, durationMs: outcome.requestedMs },
        );
    }

    const requester = {
      ...event.actor,
      displayName: resolved?.displayName ?? event.actor.displayName,
      email: resolved?.email,
      groups: identity.groups,
      principal: identity.principal,
    };
    const ctx = this.context();
    let request: JitRequest | undefined;
    for (let attempt = 0; attempt < 3 && !request; attempt++) {
      // The first id follows from the delivery, so replaying an event whose request was saved finds that request.
      const id = attempt === 0 ? requestIdFor(event) : this.deps.newRequestId();
      const candidate = newRequest(
        {
          id,
          requester,
          origin: event.channel,
          target: node,
          reason: command.reason,
          durationMs: outcome.durationMs,
          decidedBy:
            outcome.kind === 'auto'
              ? { kind: 'auto', policyName: outcome.policy.name }
              : { kind: 'manual', policy: outcome.policy },
          warnBeforeMs: settings.warnBeforeMs,
          deliveryId: event.deliveryId,
        },
        ctx,
      );
      if (await store.createRequest(candidate)) request = candidate;
      else if (attempt === 0 && this.replaying.has(event)) {
        const existing = await store.getRequest(id);
        if (
          existing &&
          samePerson(existing.requester, event.actor) &&
          existing.target.id === node.id &&
          existing.reason === command.reason
        ) {
          return this.submittedText(existing, outcome.kind === 'auto' ? outcome.policy.name : undefined, node);
        }
      }
    }
    if (!request) throw new Error('could not allocate a request id');
    this.deps.onCommitted(request.id);
    logLifecycle(this.deps.logger, 'request', {
      requestId: request.id,
      actor: personKey(event.actor),
      node: node.id,
      outcome: request.status,
    });

    return this.submittedText(request, outcome.kind === 'auto' ? outcome.policy.name : undefined, node);
  }

  /** "Submitted …" or "Auto-approved …", with a warning when the node's agent is not online. */
  private submittedText(request: JitRequest, autoPolicy: string | undefined, node: JitRequest['target']): Reply {
    const label = nodeLabel(node);
    const warning =
      node.pingStatus && node.pingStatus !== 'Online'
        ? `\n${this.messages.say('request.not_registered', { node: node.name ?? node.id, ping: node.pingStatus })}`
        : '';
    if (autoPolicy !== undefined) {
      return {
        kind: 'info',
        text: this.messages.say('request.auto_approved', { id: request.id, node: label, policy: autoPolicy }) + warning,
      };
    }
    const level = request.levels[0]!;
    return {
      kind: 'info',
      text:
        this.messages.say('request.submitted', {
          id: request.id,
          node: label,
          level: 1,
          levels: request.levels.length,
          approvers: describeApprovers(level),
        }) + warning,
    };
  }

  private async list(actor: UserRef): Promise<Reply> {
    const requests = await this.deps.store.listRequestsByRequester(actor.platform, actor.userId, LIST_LIMIT);
    if (requests.length === 0) return this.messages.info('list.empty');
    const lines = requests.map((r) =>
      this.messages.say('list.item', {
        id: r.id,
        node: nodeLabel(r.target),
        status: this.messages.say(`status.${r.status}`),
        when: this.messages.time(r.createdAt),
      }),
    );
    return { kind: 'info', text: [this.messages.say('list.header'), ...lines].join('\n') };
  }

  private async status(requestId: string): Promise<Reply> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request) return this.messages.error('request.not_found', { id: requestId });
    return {
      kind: 'info',
      text: this.messages.say('status.line', {
        id: request.id,
        node: nodeLabel(request.target),
        status: this.messages.say(`status.${request.status}`),
        requester: request.requester.displayName,
        reason: request.reason,
      }),
    };
  }

  private async revoke(requestId: string, event: InboundEvent): Promise<Reply> {
    const person = await this.person(event.actor, event.channel);
    const done: DoneText = (saved, previous) =>
      previous.status === 'revoking'
        ? this.messages.say('revoke.retry_now', { id: saved.id })
        : this.messages.say('revoke.done', { id: saved.id, node: nodeLabel(saved.target) });
    return this.change(
      requestId,
      event,
      'revoke',
      (current, ctx) => revoke(current, person, ctx, event.deliveryId),
      done,
    );
  }

  /** The acting person with what the config says about them (roles, admin), matched on their id and email. */
  private async person(actor: UserRef, lastSeenIn: ChannelRef): Promise<Person> {
    const email = (await this.deps.adapters.resolveUser(actor, lastSeenIn))?.email;
    return personFacts(this.deps.access, { ...actor, email });
  }

  private async admin(event: CommandEvent, command: Extract<Command, { kind: 'admin' }>): Promise<Reply> {
    const { access, clock, channelRoles } = this.deps;
    const actor = personKey(event.actor);
    const refuse = (code: string, reply: Reply, detail: Record<string, unknown> = {}) =>
      this.refused(event, code, reply, { command: command.action, ...detail }, 'admin.refused');
    if (!(await this.person(event.actor, event.channel)).admin) {
      return refuse('not_admin', this.messages.error('admin.not_admin', { admins: this.adminsLabel() }));
    }
    const channel = event.channel;
    switch (command.action) {
      case 'map-channel': {
        const roles = Object.keys(access.roles);
        if (!roles.includes(command.role)) {
          return refuse(
            'unknown_role',
            this.messages.error('admin.unknown_role', { role: command.role, roles: roles.join(', ') }),
            { role: excerpt(command.role, AUDIT_EXCERPT_LENGTH) },
          );
        }
        const adapter = this.deps.adapters.get(channel.platform);
        if (adapter?.canPostIn && !(await adapter.canPostIn(channel))) {
          return refuse('not_member', this.messages.error('admin.not_member'), { ...channel, role: command.role });
        }
        await channelRoles.map(channel, command.role, actor, clock.now(), event.deliveryId);
        return this.messages.info('admin.mapped', { role: command.role });
      }
      case 'unmap-channel': {
        const removed = await channelRoles.unmap(channel, actor, clock.now(), event.deliveryId);
        if (!removed) return refuse('not_mapped', this.messages.error('admin.not_mapped'), { ...channel });
        return this.messages.info('admin.unmapped', { role: removed.role });
      }
      case 'channels': {
        const mappings = await channelRoles.all();
        if (mappings.length === 0) return this.messages.info('admin.channels_empty');
        return {
          kind: 'info',
          text: mappings
            .map((m) =>
              this.messages.say('admin.channels_item', {
                platform: m.platform,
                channel: m.channelId,
                role: m.role,
                source: m.source,
              }),
            )
            .join('\n'),
        };
      }
    }
  }

  // ── card clicks ───────────────────────────────────────────────────────────────────────────────────────

  private async onAction(event: ActionEvent): Promise<Reply> {
    return this.withClickedCard(event, await this.decideOrRevoke(event));
  }

  private async decideOrRevoke(event: ActionEvent): Promise<Reply> {
    if (event.action === 'revoke') return this.revoke(event.requestId, event);
    const input = {
      actor: await this.person(event.actor, event.channel),
      channelRoles: await this.deps.channelRoles.rolesOf(event.channel),
      verdict: event.action,
      comment: event.comment,
      deliveryId: event.deliveryId,
    };
    return this.change(
      event.requestId,
      event,
      'decision',
      (current, ctx) => decide(current, input, ctx),
      (saved) => this.decisionText(saved),
    );
  }

  /**
   * Applies a transition with compare-and-set, re-reading and re-deciding on conflict: of twenty racing
   * clicks exactly one commits; the others re-read and get the refusal the new state implies.
   */
  private async change(
    requestId: string,
    event: InboundEvent,
    lifecycle: LifecycleEvent,
    transition: (request: JitRequest, ctx: TransitionContext) => TransitionResult,
    done: DoneText,
  ): Promise<Reply> {
    const outcome = await updateRequest<Refusal>(this.deps.store, requestId, (fresh) => {
      const result = transition(fresh, this.context());
      return result.ok ? { next: result.request } : { refuse: result.refusal };
    });
    const log = (request: JitRequest, result: string) =>
      logLifecycle(this.deps.logger, lifecycle, {
        requestId,
        actor: personKey(event.actor),
        node: request.target.id,
        outcome: result,
      });
    switch (outcome.kind) {
      case 'missing':
        return this.refused(event, 'request_not_found', this.messages.error('request.not_found', { id: requestId }), {
          requestId,
        });
      case 'contended':
        return this.messages.error('error.busy', { id: requestId });
      case 'refused': {
        const { request, refusal } = outcome;
        if (this.replaying.has(event) && alreadyApplied(request, event)) {
          // Replayed after a crash that came between saving this event's change and marking it processed.
          return { kind: 'info', text: done(request, request) };
        }
        log(request, `refused:${refusal.code}`);
        await this.auditRefusal(request, event, refusal);
        if (event.kind === 'action' && event.message) this.redraw(request, event);
        return { kind: 'error', text: this.messages.refusal(request, refusal) };
      }
      case 'saved':
        log(outcome.request, outcomeOf(lifecycle, outcome.request, outcome.previous));
        this.deps.onCommitted(requestId);
        return { kind: 'info', text: done(outcome.request, outcome.previous) };
      case 'skipped':
        throw new Error(`transition on ${requestId} neither changed nor refused it`);
    }
  }

  private decisionText(request: JitRequest): string {
    const last = request.decisions[request.decisions.length - 1]!;
    const progress = statusText(request, this.deps.settings);
    return this.messages.say('decision.recorded', {
      verdict: this.messages.say(`verdict.${last.verdict}`),
      id: request.id,
      progress,
    });
  }

  /**
   * Platforms that show the redrawn card from the click's response (capability `cardInClickResponse`) get it in
   * the reply, drawn from the state after the click for the channel it was clicked in.
   */
  private async withClickedCard(event: ActionEvent, reply: Reply): Promise<Reply> {
    const adapter = this.deps.adapters.get(event.platform);
    if (!event.message || !adapter?.capabilities.cardInClickResponse) return reply;
    const request = await this.deps.store.getRequest(event.requestId);
    if (!request) return reply;
    return { ...reply, card: await this.deps.adapters.cardFor(request, event.message) };
  }

  /** The card the person clicked may be stale: redraw it from stored state (best effort, after the reply). */
  private redraw(request: JitRequest, event: ActionEvent): void {
    if (!event.message) return;
    this.deps.adapters.redrawCard(request, event.message).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, requestId: request.id }, 'could not redraw a stale card');
    });
  }

  private async auditRefusal(request: JitRequest, event: InboundEvent, refusal: Refusal): Promise<void> {
    // A person's click or command is audited even when it lost a race (`already_decided`); `not_due` is the
    // scheduler's business and never a person's.
    if (refusal.code === 'not_due') return;
    await this.deps.store.appendAudit({
      at: this.deps.clock.now(),
      actor: personKey(event.actor),
      action: event.kind === 'action' ? 'decision.refused' : 'command.refused',
      requestId: request.id,
      deliveryId: event.deliveryId,
      detail: { code: refusal.code },
    });
  }

  /**
   * Audits a refusal that happened before any request changed (`command.refused`, `decision.refused` for a click,
   * or `admin.refused`) and returns the person's reply. `detail` names what was asked for; free text the person
   * typed (the reason, a whole command) is never put in it.
   */
  private async refused(
    event: InboundEvent,
    code: string,
    reply: Reply,
    detail: Record<string, unknown> = {},
    action?: string,
  ): Promise<Reply> {
    await this.deps.store.appendAudit({
      at: this.deps.clock.now(),
      actor: personKey(event.actor),
      action: action ?? (event.kind === 'action' ? 'decision.refused' : 'command.refused'),
      deliveryId: event.deliveryId,
      ...(typeof detail.requestId === 'string' && { requestId: detail.requestId }),
      detail: { code, ...detail },
    });
    return reply;
  }

  // ── helpers ───────────────────────────────────────────────────────────────────────────────────────────

  private adminsLabel(): string {
    return this.deps.access.admins.join(', ') || '—';
  }

  private context(): TransitionContext {
    return { now: this.deps.clock.now(), locale: this.deps.settings.locale, timeZone: this.deps.settings.timeZone };
  }
}

/** The lifecycle log's outcome for a committed change: the verdict for decisions, the new status otherwise. */
function outcomeOf(event: LifecycleEvent, saved: JitRequest, previous: JitRequest): string {
  if (event === 'decision')
    return `${saved.decisions[saved.decisions.length - 1]?.verdict ?? 'decision'}:${saved.status}`;
  if (event === 'revoke' && previous.status === 'revoking') return 'retry_now';
  return saved.status;
}

/** A request id derived from the delivery: the same event always asks for the same id first. */
function requestIdFor(event: InboundEvent): string {
  return formatRequestId(createHash('sha256').update(deliveryKey(event)).digest());
}

/** Whether the request already carries what this event asked for (its author's vote, or their cancellation). */
function alreadyApplied(request: JitRequest, event: InboundEvent): boolean {
  if (event.kind === 'action') {
    return request.decisions.some(
      (decision) => samePerson(decision.by, event.actor) && decision.verdict === event.action,
    );
  }
  return (
    request.status === 'cancelled' && samePerson(request.requester, event.actor) && /^\s*cancel\b/i.test(event.text)
  );
}
