import { z } from 'zod';
import type { AdapterNormaliseContext, AdapterSchemaKit } from '../../src/ports/adapter-module';

// `adapters.dingtalk` in jitbot.yaml (docs/dingtalk.md). `dingtalk: { enabled: true, clientId: … }` reads the
// client secret from DINGTALK_CLIENT_SECRET unless another variable is named.

export interface DingTalkSettings {
  clientId: string;
  clientSecret: string;
  robotCode?: string;
  corpId?: string;
  robotName?: string;
  cardTemplateId?: string;
  mode: 'stream' | 'http';
  gatewayUrl?: string;
  apiUrl?: string;
  oapiUrl?: string;
}

const url = (example: string) => z.url({ protocol: /^https?$/, error: `expected a URL like ${example}` });

export const dingTalkSectionSchema = (kit: AdapterSchemaKit) =>
  z.strictObject({
    clientId: z.string().min(1, "the app's Client ID (AppKey), e.g. dingxxxxxxxxxxxxxxxx"),
    clientSecret: kit.secret('DINGTALK_CLIENT_SECRET').default('${DINGTALK_CLIENT_SECRET}'),
    robotCode: z.string().min(1).optional(),
    corpId: z.string().min(1).optional(),
    robotName: z.string().min(1).max(50).optional(),
    cardTemplateId: z.string().min(1).optional(),
    mode: z.enum(['stream', 'http'], { error: 'expected stream or http' }).default('stream'),
    gatewayUrl: url('https://api.dingtalk.com').optional(),
    apiUrl: url('https://api.dingtalk.com').optional(),
    oapiUrl: url('https://oapi.dingtalk.com').optional(),
  });

export type DingTalkSection = z.output<ReturnType<typeof dingTalkSectionSchema>>;

export function normaliseDingTalkSection(section: DingTalkSection, context: AdapterNormaliseContext): DingTalkSettings {
  if (!section.corpId) {
    context.warning(
      'corpId',
      'without corpId, people from other DingTalk organisations (external contacts in a shared group) are not refused',
    );
  }
  if (section.mode === 'http' && section.cardTemplateId) {
    context.warning(
      'cardTemplateId',
      'card clicks arrive only over Stream: in HTTP mode cards are markdown messages and the template is not used',
    );
  }
  const { clientSecret, ...rest } = section;
  return {
    ...rest,
    clientSecret: context.secret('clientSecret', clientSecret, { required: true }) ?? '',
  };
}
