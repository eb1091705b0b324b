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

  /** Makes a channel speak for a role (stored, audited); the caller has checked that the role exists. */
  async map(channel: ChannelRef, role: string, by: string, now: number, deliveryId?: string): Promise<void> {
    await this.store.putChannelMapping({ ...channel, role, mappedBy: by, mappedAt: now });
    await this.store.appendAudit({ at: now, actor: by, action: 'channel.mapped', deliveryId, detail: { ...channel, role } });
  }

  /** Stops a channel speaking for its role; returns the mapping that was removed, if there was one. */
  async unmap(channel: ChannelRef, by: string, now: number, deliveryId?: string): Promise<EffectiveChannelRole | undefined> {
    const current = (await this.all()).find((m) => m.platform === channel.platform && m.channelId === channel.channelId);
    if (!current) return undefined;
    await this.store.deleteChannelMapping(channel.platform, channel.channelId);
    if ((await this.rolesOf(channel)).length > 0) {
      // The config file maps it too: hide that with an explicit "no role" entry in the store.
      await this.store.putChannelMapping({ ...channel, role: '', mappedBy: by, mappedAt: now });
    }
    await this.store.appendAudit({ at: now, actor: by, action: 'channel.unmapped', deliveryId, detail: { ...channel, role: current.role } });
    return current;
  }

  async channelsFor(roles: string[]): Promise<ChannelRef[]> {
    return (await this.all()).filter((m) => roles.includes(m.role)).map(({ platform, channelId }) => ({ platform, channelId }));
  }
}
