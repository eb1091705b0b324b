import { withDisplayName } from '../../../adapters/shared/dispatching-inbound';
import type { CommandEvent } from '../../../src/ports/chat';

const event: CommandEvent = {
  kind: 'command',
  platform: 'slack',
  deliveryId: 'd1',
  actor: { platform: 'slack', userId: 'U1', displayName: 'U1' },
  channel: { platform: 'slack', channelId: 'C1' },
  text: 'help',
};

describe('withDisplayName', () => {
  test('the actor gets the looked-up name; nothing else changes', async () => {
    const lookedUp: string[] = [];
    const enriched = await withDisplayName(async (userId) => {
      lookedUp.push(userId);
      return 'Alice';
    })(event);
    expect(lookedUp).toEqual(['U1']);
    expect(enriched).toEqual({ ...event, actor: { ...event.actor, displayName: 'Alice' } });
    expect(event.actor.displayName).toBe('U1');
  });

  test('a look-up that fails or knows no name leaves the event as it came', async () => {
    await expect(withDisplayName(() => Promise.reject(new Error('rate limited')))(event)).resolves.toBe(event);
    await expect(withDisplayName(async () => undefined)(event)).resolves.toBe(event);
    await expect(withDisplayName(async () => '')(event)).resolves.toBe(event);
  });
});
