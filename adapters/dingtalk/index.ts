import { defineAdapterModule } from '../../src/ports/adapter-module';
import { dingTalkSectionSchema, normaliseDingTalkSection } from './config';

/** DingTalk: Stream mode (default) or HTTP robot callbacks, interactive approval cards (see docs/dingtalk.md). */
export const dingTalkModule = defineAdapterModule({
  name: 'dingtalk',
  schema: dingTalkSectionSchema,
  normalise: normaliseDingTalkSection,
  create: (settings, deps) => {
    // Loaded here, not at the top: the platform's SDK costs tens of MB, paid only when the adapter is enabled.
    const { DingTalkAdapter } = require('./dingtalk-adapter') as typeof import('./dingtalk-adapter');
    return new DingTalkAdapter({ ...settings, logger: deps.logger, now: () => deps.clock.now() });
  },
});
