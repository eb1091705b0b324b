import { CreateUserCommand, GetUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import pino from 'pino';
import { startJitbot, type RunningJitbot } from '../../src/app';
import { ADAPTERS } from '../../adapters';
import { parseConfigText } from '../../src/config/load';
import { openStore, type OpenedStore } from '../../src/store/open-store';
import { FakeSsm } from '../support/fake-ssm';

// jitbot with AWS configured, exactly as `jitbot start` wires it: IAM and EC2 through the real SDK against
// moto_server, SSM against the local JSON 1.1 fake, in aws-cn. A real one-minute grant: the policy the
// approval writes allows that person on that node until the end time; at expiry (real clock) the sweeper
// removes it and terminates the person's live session.

const moto = process.env.MOTO_ENDPOINT;
if (!moto) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

const ACCOUNT = '123456789012';
const REGION = 'cn-north-1';
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const userName = `dana-${run}`;
const nodeName = `web-prod-${run}`;
const credentials = { accessKeyId: 'AKIDE2ETEST', secretAccessKey: 'fake' };

const ENV_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_IAM',
  'AWS_ENDPOINT_URL_EC2',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_SSM',
];
const savedEnv: Record<string, string | undefined> = {};

let fakeSsm: FakeSsm;
let opened: OpenedStore;
let running: RunningJitbot;
let instanceId: string;
let deliveries = 0;

const iam = new IAMClient({ region: REGION, endpoint: moto, credentials });

beforeAll(async () => {
  fakeSsm = await FakeSsm.start();
  for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_IAM: moto,
    AWS_ENDPOINT_URL_EC2: moto,
    AWS_ENDPOINT_URL_STS: moto,
    AWS_ENDPOINT_URL_SSM: fakeSsm.url,
  });

  await iam.send(new CreateUserCommand({ UserName: userName }));
  const ec2 = new EC2Client({ region: REGION, endpoint: moto, credentials });
  const launched = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Name', Value: nodeName },
            { Key: 'Env', Value: 'prod' },
          ],
        },
      ],
    }),
  );
  ec2.destroy();
  instanceId = launched.Instances![0]!.InstanceId!;
  fakeSsm.addNode({ id: instanceId, pingStatus: 'Online', tags: { Name: nodeName }, region: REGION, account: ACCOUNT });

  const config = parseConfigText(
    `
aws:
  regions: [${REGION}]
  accounts: [{ id: "${ACCOUNT}", name: moto }]
identities:
  - match: { platform: console, userId: dana }
    principal: { kind: iam-user, arn: "arn:aws-cn:iam::${ACCOUNT}:user/${userName}" }
roles:
  ops-approvers: { members: ["console:alice"], channels: { console: ops-approvals } }
admins: ["console:alice"]
policies:
  - kind: manual
    name: production
    targets: { tags: { Env: prod } }
    minDuration: 1m
    maxDuration: 8h
    defaultDuration: 1h
    levels: [{ roles: [ops-approvers], required: 1 }]
timeouts: { expiryWarning: "0" }
adapters: { console: { enabled: true } }
`,
    'aws-e2e',
    { env: {}, adapters: ADAPTERS },
  );
  opened = await openStore({ embedded: { inMemory: true } });
  running = await startJitbot({
    config,
    logger: pino({ level: process.env.JITBOT_TEST_LOG ?? 'silent' }),
    store: opened.store,
    port: 0,
    sweepIntervalMs: 1_000,
    recoveryIntervalMs: 1_000,
  });
});

afterAll(async () => {
  await running?.stop();
  await opened?.close();
  await fakeSsm?.close();
  iam.destroy();
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

async function call(path: string, body: unknown): Promise<any> {
  const response = await fetch(running.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...(body as object), deliveryId: `aws-e2e-${++deliveries}` }),
  });
  if (!response.ok) throw new Error(`${path} → ${response.status}: ${await response.text()}`);
  const json: any = await response.json();
  return json.reply ?? json;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('a one-minute grant resolved by Name tag is written to IAM, then removed at expiry with the live session ended', async () => {
  const submitted = await call('/console/api/command', {
    user: 'dana',
    channel: 'requests',
    text: `/jit ${nodeName} deploy hotfix for 1m`,
  });
  expect(submitted.kind).toBe('info');
  const requestId = /JIT-[0-9A-Z]{5}/.exec(submitted.text)![0];
  await running.outbox.idle();

  const state: any = await (await fetch(`${running.url}/console/api/state?user=alice`)).json();
  const card = state.channels
    .find((c: any) => c.id === 'ops-approvals')
    .messages.find((m: any) => m.card?.requestId === requestId);
  expect(card.card.title).toContain(nodeName);
  expect(card.card.fields).toEqual(
    expect.arrayContaining([
      { label: 'Node', value: `${nodeName} (${instanceId})` },
      { label: 'SSM agent', value: 'Online' },
    ]),
  );
  expect(card.card.notices.join(' ')).not.toMatch(/dry run/i);

  expect(
    (
      await call('/console/api/action', {
        user: 'alice',
        channel: 'ops-approvals',
        messageId: card.id,
        requestId,
        action: 'approve',
      })
    ).kind,
  ).toBe('info');
  const active = await until(
    'the grant',
    async () => {
      const request = await running.store.getRequest(requestId);
      return request?.status === 'active' ? request : undefined;
    },
    15_000,
  );

  const written = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'jitbot-grants' }));
  const document = JSON.parse(decodeURIComponent(written.PolicyDocument!));
  expect(document.Statement).toEqual([
    expect.objectContaining({
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: `arn:aws-cn:ec2:${REGION}:${ACCOUNT}:instance/${instanceId}`,
      Condition: expect.objectContaining({
        DateLessThan: { 'aws:CurrentTime': new Date(active.grant!.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      }),
    }),
  ]);
  expect(JSON.stringify(document)).not.toContain('arn:aws:');

  // Dana opens a session while access is live; another person's session on the node must survive.
  const mine = fakeSsm.addSession({
    target: instanceId,
    owner: `arn:aws-cn:iam::${ACCOUNT}:user/${userName}`,
    region: REGION,
    account: ACCOUNT,
  });
  const theirs = fakeSsm.addSession({
    target: instanceId,
    owner: `arn:aws-cn:iam::${ACCOUNT}:user/someone-else`,
    region: REGION,
    account: ACCOUNT,
  });

  const ended = await until(
    'the expiry',
    async () => {
      const request = await running.store.getRequest(requestId);
      return request?.status === 'ended' && request.outbox.length === 0 ? request : undefined;
    },
    90_000,
  );
  expect(ended.endedAt).toBeGreaterThanOrEqual(active.grant!.expiresAt);
  await expect(
    iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: 'jitbot-grants' })),
  ).rejects.toMatchObject({
    name: 'NoSuchEntityException',
  });
  expect(fakeSsm.terminated()).toContain(mine);
  expect(fakeSsm.terminated()).not.toContain(theirs);

  const after: any = await (await fetch(`${running.url}/console/api/state?user=alice`)).json();
  const thread = after.channels
    .find((c: any) => c.id === 'ops-approvals')
    .messages.find((m: any) => m.card?.requestId === requestId)
    .thread.map((r: any) => r.text)
    .join('\n');
  expect(thread).toContain(`Access to ${nodeName} (${instanceId}) ended; 1 live session terminated.`);
}, 120_000);
