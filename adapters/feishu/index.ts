import { defineAdapterModule } from '../../src/ports/adapter-module';
import { feishuSectionSchema, normaliseFeishuSection } from './config';
import { FeishuAdapter } from './feishu-adapter';

/** Feishu/Lark: the long connection or HTTP callbacks (see docs/feishu.md). */
export const feishuModule = defineAdapterModule({
  name: 'feishu',
  schema: feishuSectionSchema,
  normalise: normaliseFeishuSection,
  create: (settings, deps) => new FeishuAdapter({ ...settings, logger: deps.logger, now: () => deps.clock.now() }),
});
