import { randomUUID } from 'node:crypto';
import { outTrackIdFor } from '../../../adapters/dingtalk/payloads';
import { FAKE_CORP_ID, FAKE_ROBOT_CODE } from '../../support/fake-dingtalk';

// Payloads exactly as DingTalk sends them: a robot message (Stream CALLBACK data or HTTP-mode body) and a card
// callback (Stream CALLBACK data).

export interface RobotMessageInput {
  text: string;
  userId?: string;
  nick?: string;
  /** A group's openConversationId; absent: a one-to-one chat with the robot. */
  group?: string;
  msgId?: string;
  corpId?: string;
}

export function robotMessage(input: RobotMessageInput): Record<string, unknown> {
  const userId = input.userId ?? 'manager4521';
  return {
    conversationId: input.group ?? `cidDM${userId}`,
    atUsers: input.group ? [{ dingtalkId: '$:LWCP_v1:$robot' }] : [],
    chatbotCorpId: FAKE_CORP_ID,
    chatbotUserId: '$:LWCP_v1:$robot',
    msgId: input.msgId ?? `msg${randomUUID().replace(/-/g, '')}`,
    senderNick: input.nick ?? '张三',
    isAdmin: false,
    senderStaffId: userId,
    sessionWebhookExpiredTime: Date.now() + 5_400_000,
    createAt: Date.now(),
    senderCorpId: input.corpId ?? FAKE_CORP_ID,
    conversationType: input.group ? '2' : '1',
    senderId: '$:LWCP_v1:$encrypted-per-robot-id',
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=secret-session',
    text: { content: ` ${input.text}` },
    robotCode: FAKE_ROBOT_CODE,
    msgtype: 'text',
    ...(input.group && { conversationTitle: 'ops approvals', isInAtList: true }),
  };
}

export interface CardClickInput {
  requestId: string;
  channelId: string;
  action: 'approve' | 'reject' | 'revoke' | string;
  userId?: string;
  comment?: string;
  corpId?: string;
  /** Put the comment in params.form instead of params.comment. */
  asForm?: boolean;
}

export function cardCallback(input: CardClickInput): Record<string, unknown> {
  const params: Record<string, unknown> = { action: input.action, requestId: input.requestId };
  if (input.comment !== undefined) {
    if (input.asForm) params.form = { comment: input.comment };
    else params.comment = input.comment;
  }
  return {
    extension: '{}',
    corpId: input.corpId ?? FAKE_CORP_ID,
    spaceType: input.channelId.startsWith('dm:') ? 'IM_ROBOT' : 'IM_GROUP',
    userIdType: 1,
    type: 'actionCallback',
    userId: input.userId ?? 'ops7',
    content: JSON.stringify({ cardPrivateData: { actionIds: [input.action], params } }),
    spaceId: input.channelId,
    outTrackId: outTrackIdFor(input.requestId, input.channelId),
  };
}

/** What a person reads in DingTalk markdown: character references decoded, word joiners gone, hard breaks plain. */
export function visibleText(markdown: string): string {
  return markdown
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)))
    .replace(/\u2060/g, '')
    .replace(/ {2}\n/g, '\n');
}
