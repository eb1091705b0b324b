import type { Node } from '../core/model';

// The built-in demo: what `npm start` runs when there is no jitbot.yaml. No AWS (dry run), the local web
// console as the only chat, four console people and a small fleet in aws-cn. Loaded by the same loader as any
// file, so it is also an always-tested example of a valid config.

export const DEMO_SOURCE = 'built-in demo config';

/** People the console lets you act as. `userId` is the console user id (`console:<userId>` in the config). */
export const DEMO_USERS: readonly { userId: string; displayName: string; description: string }[] = [
  { userId: 'dana', displayName: 'Dana', description: 'Developer: requests access (group developers)' },
  { userId: 'alice', displayName: 'Alice', description: 'Approver: ops-approvers' },
  { userId: 'bob', displayName: 'Bob', description: 'Approver: security-leads' },
  { userId: 'carol', displayName: 'Carol', description: 'Admin, also in ops-approvers' },
];

const DEMO_ACCOUNT = '111122223333';
const DEMO_REGION = 'cn-north-1';
const demoNode = (node: Omit<Node, 'account' | 'region'> & Partial<Pick<Node, 'account' | 'region'>>): Node => ({
  account: DEMO_ACCOUNT,
  region: DEMO_REGION,
  ...node,
});

/** The nodes `inventory.demo: true` adds. */
export const DEMO_NODES: readonly Node[] = [
  demoNode({ id: 'i-0123456789abcdef0', name: 'web-1', tags: { Env: 'prod', Owner: 'web-team' }, pingStatus: 'Online' }),
  demoNode({ id: 'i-0123456789abcdef1', name: 'web-2', tags: { Env: 'prod' }, pingStatus: 'Online' }),
  demoNode({ id: 'i-0fedcba9876543210', name: 'dev-box', tags: { Env: 'dev' }, pingStatus: 'Online' }),
  demoNode({ id: 'i-0aaaabbbbccccdddd', name: 'db-1', tags: { Env: 'prod', Role: 'database' }, pingStatus: 'Online' }),
  demoNode({ id: 'mi-0123456789abcdef0', name: 'legacy-1', tags: { Env: 'prod' }, pingStatus: 'ConnectionLost' }),
  demoNode({
    id: 'i-0b0b0b0b0b0b0b0b1',
    name: 'batch',
    account: '444455556666',
    region: 'cn-northwest-1',
    tags: {},
    pingStatus: 'Online',
  }),
  demoNode({
    id: 'i-0b0b0b0b0b0b0b0b2',
    name: 'batch',
    account: '444455556666',
    region: 'cn-northwest-1',
    tags: {},
    pingStatus: 'Online',
  }),
];

export const DEMO_CONFIG_YAML = `# Built-in demo: no AWS account (dry run), the local console as the only chat, an embedded store.
locale: en
timeZone: UTC

identities:
  - match: { platform: console, userId: dana }
    principal: { kind: iam-user, arn: "arn:aws-cn:iam::111122223333:user/dana" }
    groups: [developers]

roles:
  ops-approvers:
    description: On-call operations engineers
    members: ["console:alice", "console:carol"]
    channels: { console: ops-approvals }
  security-leads:
    description: Security team leads
    members: ["console:bob"]
    channels: { console: security-approvals }

admins: ["console:carol"]

policies:
  - kind: deny
    name: no-database-shell
    targets: { tags: { Role: database } }
    message: Database hosts are reached through the DBA bastion, not Session Manager.
  - kind: auto
    name: dev-self-service
    targets: { tags: { Env: dev } }
    maxDuration: 1h
  - kind: manual
    name: production
    targets: { tags: { Env: prod } }
    minDuration: 1h
    maxDuration: 8h
    defaultDuration: 1h
    levels:
      - { roles: [ops-approvers], required: 1 }
      - { roles: [security-leads], required: 1 }
  - kind: manual
    name: default
    targets: { all: true }
    levels:
      - { roles: [ops-approvers], required: 1 }

inventory:
  demo: true

adapters:
  console: { enabled: true }
`;
