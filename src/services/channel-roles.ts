import type { JitbotConfig } from '../config/types';
import { channelRoles, type EffectiveChannelRole } from '../core/identity';
import type { ChannelRef } from '../core/model';
import type { Store } from '../ports/store';

/**
 * Which chat channel speaks for which approver role, as it stands now: the config file's mappings
 * overridden by the ones admins made at runtime (stored and audited).
 */
export class ChannelRoles {
  constructor(
    private readonly store: Store,
    private readonly config: Pick<JitbotConfig, 'roles'>,
  ) {}

  async all(): Promise<EffectiveChannelRole[]> {
    return channelRoles(this.config, await this.store.listChannelMappings());
  }

  async rolesOf(channel: ChannelRef): Promise<string[]> {
    return (await this.all())
      .filter((m) => m.platform === channel.platform && m.channelId === channel.channelId)
      .map((m) => m.role);
  }

  async channelsFor(roles: string[]): Promise<ChannelRef[]> {
    return (await this.all()).filter((m) => roles.includes(m.role)).map(({ platform, channelId }) => ({ platform, channelId }));
  }
}
