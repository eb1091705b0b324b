import { defineAdapterModule } from '../../src/ports/adapter-module';
import { feishuSectionSchema, normaliseFeishuSection } from './config';

/** Feishu/Lark: the long connection or HTTP callbacks (see docs/feishu.md). */
export const feishuModule = defineAdapterModule({
  name: 'feishu',
  schema: feishuSectionSchema,
  normalise: normaliseFeishuSection,
  create: (settings, deps) => {
    // Loaded here, not at the top: the platform's SDK costs tens of MB, paid only when the adapter is enabled.
    const { FeishuAdapter } = require('./feishu-adapter') as typeof import('./feishu-adapter');
    return new FeishuAdapter({ ...settings, logger: deps.logger, now: () => deps.clock.now() });
  },
});
