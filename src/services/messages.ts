import { formatTime, t, type Locale, type MessageKey } from '../core/i18n/catalog';
import type { JitRequest } from '../core/model';
import type { Refusal } from '../core/transitions';
import type { Reply } from '../ports/chat';

type Params = Record<string, string | number>;

/** What the service says to people, in the workspace's locale and time zone. */
export class Messages {
  constructor(
    private readonly locale: Locale,
    private readonly timeZone: string,
  ) {}

  say(key: MessageKey | `status.${string}` | `verdict.${string}`, params?: Params): string {
    return t(this.locale, key as MessageKey, params);
  }

  time(epochMs: number): string {
    return formatTime(this.locale, epochMs, this.timeZone);
  }

  info(key: MessageKey, params?: Params): Reply {
    return { kind: 'info', text: this.say(key, params) };
  }

  error(key: MessageKey, params?: Params): Reply {
    return { kind: 'error', text: this.say(key, params) };
  }

  /** The text for a typed refusal, naming who decided and when where that is what happened. */
  refusal(request: JitRequest, refusal: Refusal): string {
    const id = request.id;
    switch (refusal.code) {
      case 'already_decided':
        return this.say('decision.already_decided', {
          id,
          // What was decided, not where the request has got to since ("approved", not "active").
          status: this.say(refusal.status === 'rejected' ? 'status.rejected' : 'status.approved'),
          by: refusal.by?.displayName ?? request.policy.name,
          time: this.time(refusal.at ?? request.updatedAt),
        });
      case 'not_pending':
        return this.say('decision.not_pending', { id, status: this.say(`status.${refusal.status}`) });
      case 'self_approval':
        return this.say('decision.self', { id });
      case 'wrong_channel':
        return this.say('decision.wrong_channel', { id, approvers: refusal.approvers });
      case 'not_approver':
        return this.say('decision.not_approver', { id, level: refusal.level, approvers: refusal.approvers });
      case 'already_voted':
        return this.say('decision.already_voted', { id, level: refusal.level });
      case 'comment_too_long':
        return this.say('decision.comment_too_long', { length: refusal.length, max: refusal.max });
      case 'not_requester':
        return this.say('cancel.not_yours', { id, requester: refusal.requester });
      case 'not_cancellable':
        return refusal.status === 'active'
          ? this.say('cancel.active', { id })
          : this.say('cancel.not_pending', { id, status: this.say(`status.${refusal.status}`) });
      case 'already_revoking':
        return this.say('revoke.in_progress', { id });
      case 'not_active':
        return this.say('revoke.not_active', { id, status: this.say(`status.${refusal.status}`) });
      case 'not_allowed':
        return this.say('revoke.not_allowed', { id });
      case 'not_due':
        return this.say('decision.not_pending', { id, status: this.say(`status.${request.status}`) });
    }
  }
}
