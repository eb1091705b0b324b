import type { AdapterModule } from '../src/ports/adapter-module';
import { consoleModule } from './console';
import { feishuModule } from './feishu';
import { dingTalkModule } from './dingtalk';
import { slackModule } from './slack';
import { teamsModule } from './teams';

/**
 * Every chat platform this jitbot has. The config schema, its checks, `jitbot config schema` and start-up loop
 * over this list; a platform's `adapters.<name>` section is accepted once its module is listed here.
 */
export const ADAPTERS: readonly AdapterModule[] = [
  consoleModule,
  slackModule,
  teamsModule,
  feishuModule,
  dingTalkModule,
];
