import { ulid } from 'ulid';
import { defineAdapterModule } from '../../src/ports/adapter-module';
import { consoleSectionSchema, normaliseConsoleSection } from './config';
import { ConsoleAdapter, type ConsoleChannel } from './console-adapter';
import { DEMO_CONFIG_YAML, DEMO_USERS } from './demo';

const REQUESTS_CHANNEL: ConsoleChannel = {
  id: 'requests',
  name: 'requests',
  private: false,
  description: 'Type /jit … here',
};

/** The local web console: the demo people, a #requests channel and one private channel per approver role. */
export const consoleModule = defineAdapterModule({
  name: 'console',
  schema: consoleSectionSchema,
  normalise: normaliseConsoleSection,
  create: (_settings, deps) =>
    new ConsoleAdapter({
      users: DEMO_USERS.map(({ userId, displayName, description }) => ({ userId, displayName, description })),
      channels: [
        REQUESTS_CHANNEL,
        ...deps.approverChannels.map(({ role, channelId }) => ({
          id: channelId,
          name: channelId,
          private: true,
          description: `Approval cards for ${role}`,
        })),
      ],
      views: deps.views,
      newId: ulid,
      now: () => deps.clock.now(),
      logger: deps.logger,
      ...(deps.records && { records: deps.records }),
    }),
  fallback: { demoConfig: DEMO_CONFIG_YAML },
  startupNote: (serverUrl) => `\n  jitbot console: ${serverUrl}\n\n`,
});
