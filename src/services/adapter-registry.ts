import type { Logger } from 'pino';
import { buildCard, type CardContext } from '../core/card-builder';
import type { JitRequest, MessageRef, Platform, UserRef } from '../core/model';
import type { ChatAdapter, ResolvedUser } from '../ports/chat';

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

  async resolveUser(user: UserRef): Promise<ResolvedUser | undefined> {
    const key = `${user.platform}:${user.userId}`;
    const cached = this.users.get(key);
    if (cached && cached.until > this.now()) return cached.user;
    const adapter = this.byPlatform.get(user.platform);
    if (!adapter) return undefined;
    try {
      const resolved = await adapter.resolveUser(user);
      this.users.set(key, { user: resolved, until: this.now() + USER_CACHE_MS });
      return resolved;
    } catch (error) {
      this.logger.warn({ err: error, platform: user.platform }, 'user look-up failed');
      return undefined;
    }
  }

  card(request: JitRequest) {
    return buildCard(request, this.cardContext);
  }

  async redrawCard(request: JitRequest, message: MessageRef): Promise<void> {
    await this.require(message.platform).updateCard(message, this.card(request));
  }
}
