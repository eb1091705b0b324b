import { defineAdapterModule } from '../../src/ports/adapter-module';
import { normaliseSlackSection, slackSectionSchema } from './config';

/** Slack: HTTP events or Socket Mode (see docs/slack.md). */
export const slackModule = defineAdapterModule({
  name: 'slack',
  schema: slackSectionSchema,
  normalise: normaliseSlackSection,
  create: (settings, deps) => {
    // Loaded here, not at the top: the platform's SDK costs tens of MB, paid only when the adapter is enabled.
    const { SlackAdapter } = require('./slack-adapter') as typeof import('./slack-adapter');
    return new SlackAdapter({ ...settings, logger: deps.logger });
  },
});
