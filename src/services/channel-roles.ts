import type { ChannelRef, Platform } from '../core/model';
import type { Store } from '../ports/store';
import type { Directory } from './directory';

export interface EffectiveMapping {
  platform: Platform;
  channelId: string;
  role: string;
  source: 'config' | 'runtime';
}

/**
 * Which chat channel speaks for which approver role: the config file's mappings, overridden by mappings
 * admins made at runtime (stored and audited). A stored mapping with an empty role hides a file mapping.
 */
export class ChannelRoles {
  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
  ) {}

  async all(): Promise<EffectiveMapping[]> {
    const stored = await this.store.listChannelMappings();
    const key = (m: { platform: Platform; channelId: string }) => `${m.platform}\u0000${m.channelId}`;
    const effective = new Map<string, EffectiveMapping>();
    for (const m of this.directory.fileChannelMappings()) effective.set(key(m), { ...m, source: 'config' });
    for (const m of stored) {
      if (m.role) effective.set(key(m), { platform: m.platform, channelId: m.channelId, role: m.role, source: 'runtime' });
      else effective.delete(key(m));
    }
    return [...effective.values()];
  }

  async rolesOf(channel: ChannelRef): Promise<string[]> {
    return (await this.all())
      .filter((m) => m.platform === channel.platform && m.channelId === channel.channelId)
      .map((m) => m.role);
  }

  async channelsFor(roles: string[]): Promise<ChannelRef[]> {
    return (await this.all())
      .filter((m) => roles.includes(m.role))
      .map((m) => ({ platform: m.platform, channelId: m.channelId }));
  }
}
