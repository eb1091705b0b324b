import type { JitbotConfig } from '../../src/config/types';
import { FakeSlack } from '../support/fake-slack';
import { testConfig } from '../support/harness';

/** Slack people and channels of the crash tests (the fake Slack must know them). */
export const CRASH_SLACK = {
  requester: 'U_DANA',
  approver: 'U_ALICE',
  requests: 'C_REQUESTS',
  approvals: 'C_OPS',
} as const;

/** A fake Slack that knows the crash tests' people and channels. */
export function startCrashSlack(): Promise<FakeSlack> {
  return FakeSlack.start({
    users: [
      { id: CRASH_SLACK.requester, name: 'dana', realName: 'Dana Developer', email: 'dana@example.com' },
      { id: CRASH_SLACK.approver, name: 'alice', realName: 'Alice Ops', email: 'alice@example.com' },
    ],
    channels: [
      { id: CRASH_SLACK.requests, name: 'requests', isMember: true },
      { id: CRASH_SLACK.approvals, name: 'ops-approvers', isPrivate: true, isMember: true },
    ],
  });
}

/** No Env tag: only the one-level "default" policy covers it (ops-approvers, one approval). */
export const ONE_LEVEL_NODE = 'i-0b0b0b0b0b0b0b0b1';

/** The demo config on the embedded store in `dataDir`, with a Slack requester and approver. */
export function crashConfig(dataDir: string): JitbotConfig {
  return testConfig((c) => {
    c.store = { kind: 'embedded', inMemory: false, dataDir };
    c.roles['ops-approvers']!.channels.slack = CRASH_SLACK.approvals;
    c.roles['ops-approvers']!.members.push(`slack:${CRASH_SLACK.approver}`);
    c.identities.push({
      match: { platform: 'slack', userId: CRASH_SLACK.requester },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
      groups: ['developers'],
    });
  });
}
