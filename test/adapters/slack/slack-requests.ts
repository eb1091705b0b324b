import { createHmac, randomUUID } from 'node:crypto';
import { FAKE_TEAM_ID } from '../../support/fake-slack';

// Requests exactly as Slack sends them to /slack/events: form bodies signed with the signing secret.

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export interface SignOptions {
  secret?: string;
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  retryNum?: number;
  contentType?: string;
  /** Replaces the computed signature. */
  signature?: string;
}

export function sign(body: string, timestamp: number, secret = SIGNING_SECRET): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

export async function postSigned(baseUrl: string, body: string, options: SignOptions = {}): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'Content-Type': options.contentType ?? 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(timestamp),
    'X-Slack-Signature': options.signature ?? sign(body, timestamp, options.secret),
  };
  if (options.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(options.retryNum);
    headers['X-Slack-Retry-Reason'] = 'http_timeout';
  }
  return fetch(`${baseUrl}/slack/events`, { method: 'POST', headers, body });
}

export interface SlashCommandInput {
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  responseUrl: string;
  triggerId?: string;
  /** The slash command typed; `/jit` unless given. */
  command?: string;
}

/** The fields of a slash command delivery (form-urlencoded over HTTP, the same object in a Socket Mode envelope). */
export function slashCommandFields(input: SlashCommandInput): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: FAKE_TEAM_ID,
    team_domain: 'fake',
    channel_id: input.channelId,
    channel_name: input.channelId.toLowerCase(),
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/jit',
    text: input.text,
    api_app_id: 'A_FAKE',
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId ?? `${Date.now()}.${randomUUID()}`,
  };
}

export function slashCommandBody(input: SlashCommandInput): string {
  return new URLSearchParams(slashCommandFields(input)).toString();
}

export interface BlockActionInput {
  userId: string;
  userName?: string;
  channelId: string;
  messageTs: string;
  action: 'approve' | 'reject' | 'revoke' | string;
  requestId: string;
  responseUrl: string;
  comment?: string | null;
  triggerId?: string;
  actionTs?: string;
}

/** A block_actions payload for a click on a card button, with the comment box's value in state.values. */
export function blockActionsPayload(input: BlockActionInput): Record<string, unknown> {
  const actionTs = input.actionTs ?? `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: 'block_actions',
    user: {
      id: input.userId,
      username: input.userName ?? input.userId.toLowerCase(),
      name: input.userName ?? input.userId.toLowerCase(),
      team_id: FAKE_TEAM_ID,
    },
    api_app_id: 'A_FAKE',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channelId, is_ephemeral: false },
    trigger_id: input.triggerId ?? `${Date.now()}.${randomUUID()}`,
    team: { id: FAKE_TEAM_ID, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channelId, name: input.channelId.toLowerCase() },
    message: { type: 'message', ts: input.messageTs, bot_id: 'B_JITBOT', text: 'card', blocks: [] },
    state: {
      values:
        input.comment === undefined
          ? {}
          : { jit_comment: { comment: { type: 'plain_text_input', value: input.comment } } },
    },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: input.action,
        block_id: 'jit_actions',
        text: { type: 'plain_text', text: input.action, emoji: true },
        value: input.requestId,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

export function blockActionsBody(input: BlockActionInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(input)) }).toString();
}
