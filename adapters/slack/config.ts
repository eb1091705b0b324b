import { z } from 'zod';
import type { AdapterNormaliseContext, AdapterSchemaKit } from '../../src/ports/adapter-module';

// `adapters.slack` in jitbot.yaml. `slack: { enabled: true }` alone reads Slack's conventional environment
// variables (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, and SLACK_APP_TOKEN / SLACK_API_URL when they are set).

export interface SlackSettings {
  botToken: string;
  signingSecret: string;
  /** App-level token (xapp-…): present means Socket Mode. */
  appToken?: string;
  /** Override of https://slack.com/api/ (tests, proxies). */
  apiUrl?: string;
  /** The slash command the Slack app defines; others are refused. Default `/jit`. */
  command?: string;
}

export const slackSectionSchema = (kit: AdapterSchemaKit) =>
  z.strictObject({
    botToken: kit.secret('SLACK_BOT_TOKEN').default('${SLACK_BOT_TOKEN}'),
    signingSecret: kit.secret('SLACK_SIGNING_SECRET').default('${SLACK_SIGNING_SECRET}'),
    appToken: kit.secret('SLACK_APP_TOKEN').optional(),
    apiUrl: z.url({ error: 'expected a URL like https://slack.com/api/' }).optional(),
    command: z
      .string()
      .regex(/^\/[a-z0-9_-]{1,31}$/, { error: 'expected a slash command like /jit (the one in the Slack app)' })
      .optional(),
  });

export type SlackSection = z.output<ReturnType<typeof slackSectionSchema>>;

export function normaliseSlackSection(section: SlackSection, context: AdapterNormaliseContext): SlackSettings {
  const appTokenRef = section.appToken ?? (context.env('SLACK_APP_TOKEN') ? '${SLACK_APP_TOKEN}' : undefined);
  const appToken = context.secret('appToken', appTokenRef);
  const apiUrl = section.apiUrl ?? (context.env('SLACK_API_URL') || undefined);
  return {
    botToken: context.secret('botToken', section.botToken, { required: true }) ?? '',
    signingSecret: context.secret('signingSecret', section.signingSecret, { required: true }) ?? '',
    ...(appToken !== undefined ? { appToken } : {}),
    ...(apiUrl !== undefined ? { apiUrl } : {}),
    ...(section.command !== undefined ? { command: section.command } : {}),
  };
}
