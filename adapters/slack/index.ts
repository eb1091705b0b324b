import { defineAdapterModule } from '../../src/ports/adapter-module';
import { normaliseSlackSection, slackSectionSchema } from './config';
import { SlackAdapter } from './slack-adapter';

/** Slack: HTTP events or Socket Mode (see docs/slack.md). */
export const slackModule = defineAdapterModule({
  name: 'slack',
  schema: slackSectionSchema,
  normalise: normaliseSlackSection,
  create: (settings, deps) => new SlackAdapter({ ...settings, logger: deps.logger }),
});
