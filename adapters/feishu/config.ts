import { z } from 'zod';
import type { AdapterNormaliseContext, AdapterSchemaKit } from '../../src/ports/adapter-module';
import type { FeishuMode } from './feishu-adapter';

// `adapters.feishu` in jitbot.yaml. `feishu: { enabled: true, appId: cli_… }` alone reads FEISHU_APP_SECRET and
// uses the long connection; `mode: http` also reads FEISHU_ENCRYPT_KEY and FEISHU_VERIFICATION_TOKEN.

export interface FeishuSettings {
  mode: FeishuMode;
  appId: string;
  appSecret: string;
  encryptKey?: string;
  verificationToken?: string;
  /** `feishu`, `lark`, or a base URL: every call (the tenant token and the long connection included) goes there. */
  domain: string;
}

const APP_ID = /^cli_[0-9a-fA-F]{16}$/;

export const feishuSectionSchema = (kit: AdapterSchemaKit) =>
  z.strictObject({
    mode: z
      .enum(['websocket', 'http'], { error: 'expected websocket (the long connection) or http' })
      .default('websocket'),
    appId: z.string({ error: 'expected the App ID, cli_ and 16 hex digits (Credentials & Basic Info)' }),
    appSecret: kit.secret('FEISHU_APP_SECRET').default('${FEISHU_APP_SECRET}'),
    encryptKey: kit.secret('FEISHU_ENCRYPT_KEY').optional(),
    verificationToken: kit.secret('FEISHU_VERIFICATION_TOKEN').optional(),
    domain: z
      .string()
      .refine(isDomain, { error: 'expected feishu, lark or a base URL like https://open.feishu.cn' })
      .default('feishu'),
  });

function isDomain(value: string): boolean {
  if (value === 'feishu' || value === 'lark') return true;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export type FeishuSection = z.output<ReturnType<typeof feishuSectionSchema>>;

export function normaliseFeishuSection(section: FeishuSection, context: AdapterNormaliseContext): FeishuSettings {
  if (!APP_ID.test(section.appId)) {
    context.problem(
      'appId',
      section.appId.startsWith('ou_') || section.appId.startsWith('on_')
        ? 'expected the App ID (cli_…), not a user id'
        : 'expected the App ID: cli_ and 16 hex digits (Credentials & Basic Info in the developer console)',
    );
  }
  const http = section.mode === 'http';
  // HTTP callbacks are decrypted and verified with these, so http mode cannot run without them.
  const encryptKey = context.secret('encryptKey', section.encryptKey ?? (http ? '${FEISHU_ENCRYPT_KEY}' : undefined), {
    required: http,
  });
  const verificationToken = context.secret(
    'verificationToken',
    section.verificationToken ?? (http ? '${FEISHU_VERIFICATION_TOKEN}' : undefined),
    { required: http },
  );
  if (!http && (section.encryptKey !== undefined || section.verificationToken !== undefined)) {
    context.warning(
      undefined,
      'encryptKey and verificationToken are only used with mode: http; the long connection needs neither',
    );
  }
  return {
    mode: section.mode,
    appId: section.appId,
    appSecret: context.secret('appSecret', section.appSecret, { required: true }) ?? '',
    ...(encryptKey !== undefined && { encryptKey }),
    ...(verificationToken !== undefined && { verificationToken }),
    domain: section.domain,
  };
}
