// The built-in demo: what `npm start` runs when there is no jitbot.yaml. No AWS (dry run), the local web
// console as the only chat, four console people and the demo fleet (`inventory.demo: true`) in aws-cn. Loaded
// by the same loader as any file, so it is also an always-tested example of a valid config.

/** People the console lets you act as. `userId` is the console user id (`console:<userId>` in the config). */
export const DEMO_USERS: readonly { userId: string; displayName: string; description: string }[] = [
  { userId: 'dana', displayName: 'Dana', description: 'Developer: requests access (group developers)' },
  { userId: 'alice', displayName: 'Alice', description: 'Approver: ops-approvers' },
  { userId: 'bob', displayName: 'Bob', description: 'Approver: security-leads' },
  { userId: 'carol', displayName: 'Carol', description: 'Admin, also in ops-approvers' },
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
