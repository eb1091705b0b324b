import { defineAdapterModule } from '../../src/ports/adapter-module';
import { dingTalkSectionSchema, normaliseDingTalkSection } from './config';
import { DingTalkAdapter } from './dingtalk-adapter';

/** DingTalk: Stream mode (default) or HTTP robot callbacks, interactive approval cards (see docs/dingtalk.md). */
export const dingTalkModule = defineAdapterModule({
  name: 'dingtalk',
  schema: dingTalkSectionSchema,
  normalise: normaliseDingTalkSection,
  create: (settings, deps) => new DingTalkAdapter({ ...settings, logger: deps.logger, now: () => deps.clock.now() }),
});
