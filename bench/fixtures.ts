import type { ApprovalLevel, JitRequest, Node } from '../src/core/model';
import type { Policy } from '../src/core/policy-model';
import { formatRequestId } from '../src/core/request-id';

// Deterministic benchmark data: a fleet of nodes, a config's worth of policies, commands people type, and
// requests in the shapes the store holds. Same input on every run, so runs can be compared.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 2025-01-15 09:00:00 UTC. Everything is placed relative to this instant. */
export const BENCH_NOW = Date.UTC(2025, 0, 15, 9, 0, 0);

/** What follows `/jit`: requests with English, Chinese and Japanese reasons, every duration form, and the other commands. */
export const COMMAND_MIX: readonly string[] = [
  'web-1 fix nginx for 2h',
  'i-0123456789ABCDEF0 排查 nginx 502 错误 for 30m',
  '"web server 1" 修复磁盘空间不足的问题，需要清理 /var/log 下的旧日志 --for 1h',
  '「数据库 主机」 データベースの遅延を調査します for:90m',
  'db-2 waiting for deploy',
  'mi-0123456789abcdef0 rotate TLS certificates before Friday --for=4h',
  `web-3 ${'线上故障排查，'.repeat(30)}for 1h`,
  'list',
  'ｌｉｓｔ',
  'help me please',
  'status JIT-7K3Q2',
  'cancel 7k3q2',
  'revoke jit-7k3q2',
  'admin map-channel ops-approvers',
  'web-1 for 2x',
  '',
];

const ACCOUNTS = ['111122223333', '444455556666', '777788889999'];
const REGIONS = ['cn-north-1', 'cn-northwest-1'];
/** "test" nodes are covered by no policy, so some evaluations end in "none". */
const ENVIRONMENTS = ['prod', 'staging', 'dev', 'test'];
const TEAMS = 20;

function instanceId(i: number): string {
  return `i-${i.toString(16).padStart(17, '0')}`;
}

/** Node i belongs to team i mod 20; environment, account and region vary independently of the team. */
export function makeNodes(count: number): Node[] {
  return Array.from({ length: count }, (_, i): Node => {
    const name = `node-${i}`;
    const tags: Record<string, string> = {
      Name: name,
      Env: ENVIRONMENTS[Math.floor(i / TEAMS) % ENVIRONMENTS.length]!,
      Team: `team-${i % TEAMS}`,
    };
    if (i % 25 === 0) tags.Role = 'database';
    return {
      id: instanceId(i),
      account: ACCOUNTS[Math.floor(i / 7) % ACCOUNTS.length]!,
      region: REGIONS[Math.floor(i / 11) % REGIONS.length]!,
      name,
      tags,
      state: 'running',
      pingStatus: 'Online',
    };
  });
}

const level = (role: string, required = 1): ApprovalLevel => ({ roles: [role], users: [], required });

function manual(name: string, targets: Policy['targets'], levels: ApprovalLevel[]): Policy {
  return {
    kind: 'manual',
    name,
    targets,
    minDurationMs: 15 * MINUTE,
    maxDurationMs: 8 * HOUR,
    defaultDurationMs: HOUR,
    levels,
    timeoutMs: 24 * HOUR,
    reminderIntervalMs: 4 * HOUR,
  };
}

/**
 * Ten policies per team, like a large real config: deny contractors on the team's databases, auto-approve the
 * team's developers on dev, manual approval for prod and staging, stricter prod rules per account, and three
 * per-node exceptions (by instance id, 5 nodes each). 20 teams × 10 = 200 policies.
 */
export function makePolicies(teams = TEAMS): Policy[] {
  const policies: Policy[] = [];
  for (let t = 0; t < teams; t++) {
    const team = `team-${t}`;
    const approvers = [level(`${team}-leads`), level('security')];
    policies.push(
      {
        kind: 'deny',
        name: `${team}-no-contractors-on-db`,
        message: 'Database hosts are reached through the bastion only.',
        targets: { tags: { Role: 'database', Team: team } },
        requesters: { groups: ['contractors'] },
      },
      {
        kind: 'auto',
        name: `${team}-dev`,
        targets: { tags: { Env: 'dev', Team: team } },
        requesters: { groups: [`${team}-devs`] },
        maxDurationMs: HOUR,
      },
      manual(`${team}-prod`, { tags: { Env: 'prod', Team: team } }, approvers),
      manual(`${team}-staging`, { tags: { Env: 'staging', Team: team } }, [level(`${team}-leads`)]),
      ...ACCOUNTS.map((account) =>
        manual(`${team}-prod-${account}`, { tags: { Env: 'prod', Team: team }, accounts: [account] }, approvers),
      ),
      ...[0, 1, 2].map((k) =>
        manual(
          `${team}-exception-${k}`,
          // Five nodes of this team, different for each exception: 20 teams × 3 × 5 = 300 distinct nodes.
          { ids: Array.from({ length: 5 }, (_, n) => instanceId(t + TEAMS * (k * 5 + n))) },
          [level('sre-oncall', 2)],
        ),
      ),
    );
  }
  return policies;
}

/**
 * Who asks, by benchmark round: the node's own team developer, a contractor, a developer of another team.
 * (`team` is the node's Team tag.)
 */
export function requesterGroups(round: number, team: string): string[] {
  switch (round % 3) {
    case 0:
      return ['developers', `${team}-devs`];
    case 1:
      return ['contractors'];
    default:
      return ['developers', 'team-99-devs'];
  }
}

/** Distinct canonical request ids (JIT-XXXXX) for i < 2^25. */
export function benchRequestId(i: number): string {
  const bits = (i << 7) >>> 0;
  return formatRequestId(new Uint8Array([bits >>> 24, (bits >>> 16) & 255, (bits >>> 8) & 255, bits & 255]));
}

/** A pending request at its last approval level, one approval short: the next approve makes it approved. */
export function makePendingRequest(node: Node): JitRequest {
  return {
    id: 'JIT-7K3Q2',
    requester: {
      platform: 'slack',
      userId: 'U0DANA',
      displayName: 'Dana',
      email: 'dana@example.cn',
      groups: ['developers'],
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
    },
    origin: { platform: 'slack', channelId: 'C0REQUESTS' },
    target: node,
    reason: '排查 nginx 502 错误',
    durationMs: 2 * HOUR,
    policy: { name: 'manual-4', kind: 'manual' },
    levels: [level('team-4-leads'), level('security', 2)],
    currentLevel: 1,
    decisions: [
      {
        by: { platform: 'slack', userId: 'U0LEAD', displayName: 'Lee' },
        roles: ['team-4-leads'],
        level: 0,
        verdict: 'approve',
        at: BENCH_NOW - 20 * MINUTE,
      },
      {
        by: { platform: 'slack', userId: 'U0SEC1', displayName: 'Sam' },
        roles: ['security'],
        level: 1,
        verdict: 'approve',
        at: BENCH_NOW - 5 * MINUTE,
      },
    ],
    status: 'pending',
    version: 4,
    createdAt: BENCH_NOW - 30 * MINUTE,
    updatedAt: BENCH_NOW - 5 * MINUTE,
    timeoutAt: BENCH_NOW + 23 * HOUR,
    reminderIntervalMs: 4 * HOUR,
    nextReminderAt: BENCH_NOW + 4 * HOUR,
    warnBeforeMs: 10 * MINUTE,
    cards: [
      { platform: 'slack', channelId: 'C0LEADS', messageId: '1736931600.000100' },
      { platform: 'slack', channelId: 'C0SECURITY', messageId: '1736932500.000200' },
    ],
    outbox: [],
  };
}

/** An active request whose grant expires at `expiresAt` (its only deadline, so that is when it becomes due). */
export function makeActiveRequest(i: number, node: Node, expiresAt: number): JitRequest {
  const startsAt = expiresAt - 2 * HOUR;
  const id = benchRequestId(i);
  return {
    ...makePendingRequest(node),
    id,
    requester: {
      platform: 'slack',
      userId: `U${i % 500}`,
      displayName: `User ${i % 500}`,
      groups: ['developers'],
      principal: { kind: 'iam-user', arn: `arn:aws-cn:iam::111122223333:user/user-${i % 500}` },
    },
    status: 'active',
    currentLevel: 2,
    version: 7,
    createdAt: startsAt - 10 * MINUTE,
    updatedAt: startsAt,
    reminderIntervalMs: undefined,
    nextReminderAt: undefined,
    warnBeforeMs: undefined,
    grant: {
      grantId: id,
      startsAt,
      expiresAt,
      dryRun: false,
      summary: `PutUserPolicy ssm-jit on user-${i % 500}: ssm:StartSession on ${node.id} until expiry`,
    },
  };
}
