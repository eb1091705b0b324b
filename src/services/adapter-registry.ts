import type { Logger } from 'pino';
import type { ApprovalCard } from '../core/card';
import { buildCard, type CardContext } from '../core/card-builder';
import type { ChannelRef, JitRequest, MessageRef, Platform, UserRef } from '../core/model';
import { ChatRefused, type ChatAdapter, type ResolvedUser } from '../ports/chat';

const USER_CACHE_MS = 10 * 60_000;

/** The running chat adapters, with a short cache of user look-ups (emails drive identity mapping). */
export class AdapterRegistry {
  private readonly byPlatform = new Map<Platform, ChatAdapter>();
  private readonly users = new Map<string, { user: ResolvedUser; until: number }>();

  constructor(
    adapters: ChatAdapter[],
    readonly cardContext: CardContext,
    private readonly logger: Logger,
    private readonly now: () => number,
    /** Channels that speak for the request's open level: only cards there carry Approve/Reject. */
    private readonly decidableChannels: (request: JitRequest) => Promise<ChannelRef[]>,
  ) {
    for (const adapter of adapters) this.byPlatform.set(adapter.platform, adapter);
  }

  get(platform: Platform): ChatAdapter | undefined {
    return this.byPlatform.get(platform);
  }

  require(platform: Platform): ChatAdapter {
    const adapter = this.byPlatform.get(platform);
    if (!adapter) throw new Error(`no ${platform} adapter is running`);
    return adapter;
  }

  all(): ChatAdapter[] {
    return [...this.byPlatform.values()];
  }

  /** `lastSeenIn`: the conversation the person was last seen in (some platforms look members up there). */
  async resolveUser(user: UserRef, lastSeenIn?: ChannelRef): Promise<ResolvedUser | undefined> {
    const key = `${user.platform}:${user.userId}`;
    const cached = this.users.get(key);
    if (cached && cached.until > this.now()) return cached.user;
    const adapter = this.byPlatform.get(user.platform);
    if (!adapter) return undefined;
    try {
      const resolved = await adapter.resolveUser(user, lastSeenIn);
      this.users.set(key, { user: resolved, until: this.now() + USER_CACHE_MS });
      return resolved;
    } catch (error) {
      this.logger.warn({ err: error, platform: user.platform }, 'user look-up failed');
      return undefined;
    }
  }

  async redrawCard(request: JitRequest, message: MessageRef): Promise<void> {
    await this.redrawCards(request, [message]);
  }

  /** Redraws every given card from the request's current state. A card the platform refuses for good is skipped. */
  async redrawCards(request: JitRequest, messages: readonly MessageRef[]): Promise<void> {
    const cardIn = await this.cardDrawer(request);
    await Promise.all(
      messages.map((message) =>
        this.require(message.platform)
          .updateCard(message, cardIn(message))
          .catch((error: unknown) =>
            this.unlessRefused(error, { requestId: request.id, platform: message.platform }, 'card update refused'),
          ),
      ),
    );
  }

  /** The card of a request as it should look in one channel now. */
  async cardFor(request: JitRequest, channel: ChannelRef): Promise<ApprovalCard> {
    return (await this.cardDrawer(request))(channel);
  }

  /** Swallows (and logs) a ChatRefused, which retrying cannot fix; rethrows anything else. */
  unlessRefused(error: unknown, context: Record<string, unknown>, what: string): void {
    if (!(error instanceof ChatRefused)) throw error;
    this.logger.error({ ...context, code: error.code, err: error.message }, `${what}; not retried`);
  }

  /** Looks up once where the request can be decided, then draws its card for any channel. */
  async cardDrawer(request: JitRequest): Promise<(channel: ChannelRef) => ApprovalCard> {
    const decidableIn = request.status === 'pending' ? await this.decidableChannels(request) : [];
    return (channel) =>
      buildCard(request, this.cardContext, {
        decidable: decidableIn.some((c) => c.platform === channel.platform && c.channelId === channel.channelId),
      });
  }
}
