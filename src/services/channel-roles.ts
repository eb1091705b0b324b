import { performance } from 'node:perf_hooks';
import type { JitbotConfig } from '../config/types';
import { channelRoles, type EffectiveChannelRole } from '../core/identity';
import type { ChannelRef } from '../core/model';
import type { Store } from '../ports/store';

export interface ChannelRolesOptions {
  /**
   * How long the mappings read from the store are reused. Map and unmap through this instance refresh them at
   * once; a change made elsewhere (another replica, the CLI) is seen within this time. 0: read on every call.
   */
  cacheMs?: number;
  /** Monotonic milliseconds (tests pass a manual one). */
  monotonicNow?: () => number;
}

/** Every click asks which roles its channel speaks for; a few seconds of staleness across replicas is fine. */
export const CHANNEL_ROLES_CACHE_MS = 5_000;

/**
 * Which chat channel speaks for which approver role, as it stands now: the config file's mappings
 * overridden by the ones admins made at runtime (stored and audited).
 */
export class ChannelRoles {
  private cached: { mappings: Promise<EffectiveChannelRole[]>; until: number } | undefined;
  private readonly cacheMs: number;
  private readonly monotonicNow: () => number;

  constructor(
    private readonly store: Store,
    private readonly config: Pick<JitbotConfig, 'roles'>,
    options: ChannelRolesOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? CHANNEL_ROLES_CACHE_MS;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  async all(): Promise<EffectiveChannelRole[]> {
    const now = this.monotonicNow();
    if (!this.cached || now >= this.cached.until) {
      const mappings = this.store.listChannelMappings().then((stored) => channelRoles(this.config, stored));
      this.cached = { mappings, until: now + this.cacheMs };
      // A failed read is not kept: the next call tries again.
      mappings.catch(() => {
        if (this.cached?.mappings === mappings) this.cached = undefined;
      });
    }
    return [...(await this.cached.mappings)];
  }

  async rolesOf(channel: ChannelRef): Promise<string[]> {
    return (await this.all())
      .filter((m) => m.platform === channel.platform && m.channelId === channel.channelId)
      .map((m) => m.role);
  }

  /** Makes a channel speak for a role (stored, audited); the caller has checked that the role exists. */
  async map(channel: ChannelRef, role: string, by: string, now: number, deliveryId?: string): Promise<void> {
    try {
      await this.store.putChannelMapping({ ...channel, role, mappedBy: by, mappedAt: now });
    } finally {
      this.invalidate();
    }
    await this.store.appendAudit({
      at: now,
      actor: by,
      action: 'channel.mapped',
      deliveryId,
      detail: { ...channel, role },
    });
  }

  /** Stops a channel speaking for its role; returns the mapping that was removed, if there was one. */
  async unmap(
    channel: ChannelRef,
    by: string,
    now: number,
    deliveryId?: string,
  ): Promise<EffectiveChannelRole | undefined> {
    this.invalidate();
    const current = (await this.all()).find(
      (m) => m.platform === channel.platform && m.channelId === channel.channelId,
    );
    if (!current) return undefined;
    try {
      await this.store.deleteChannelMapping(channel.platform, channel.channelId);
      this.invalidate();
      if ((await this.rolesOf(channel)).length > 0) {
        // The config file maps it too: hide that with an explicit "no role" entry in the store.
        await this.store.putChannelMapping({ ...channel, role: '', mappedBy: by, mappedAt: now });
      }
    } finally {
      this.invalidate();
    }
    await this.store.appendAudit({
      at: now,
      actor: by,
      action: 'channel.unmapped',
      deliveryId,
      detail: { ...channel, role: current.role },
    });
    return current;
  }

  async channelsFor(roles: string[]): Promise<ChannelRef[]> {
    return (await this.all())
      .filter((m) => roles.includes(m.role))
      .map(({ platform, channelId }) => ({ platform, channelId }));
  }

  /** Forgets the cached mappings: the next question reads the store. */
  invalidate(): void {
    this.cached = undefined;
  }
}
