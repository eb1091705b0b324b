import { RunInstancesCommand, TerminateInstancesCommand, type EC2Client, type Tag } from '@aws-sdk/client-ec2';
import { AwsClients, type AccountAccess } from '../../src/aws/clients';
import { AwsInventory, InventoryLookupError } from '../../src/aws/aws-inventory';
import { partitionOf } from '../../src/core/partition';
import { FakeSsm } from '../support/fake-ssm';

// EC2 through moto_server (shared by the whole jest run: every test uses its own Name values), SSM through the
// local fake. Both are reached by the real SDK clients that AwsClients makes.

const moto = process.env.MOTO_ENDPOINT;
if (!moto) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

/** moto's account for plain (non-assumed) credentials. */
const HOME_ACCOUNT = '123456789012';
/** A second account, reached through STS AssumeRole; moto scopes the returned credentials to it. */
const OTHER_ACCOUNT = '222233334444';
/** An AMI moto lists in DescribeImages. */
const AMI = 'ami-12c6146b';
const CREDENTIALS = { accessKeyId: 'AKIDINVENTORYTEST', secretAccessKey: 'fake' };
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let names = 0;
const uniqueName = (label: string) => `${label}-${runId}-${++names}`;

/** A valid-looking id no one has. */
const unknownId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
/** The fake tells accounts apart by access key: ours is the home account, moto's assumed-role keys the other. */
const accountOf = (accessKeyId: string) => (accessKeyId === CREDENTIALS.accessKeyId ? HOME_ACCOUNT : OTHER_ACCOUNT);

/** Counts API calls (not HTTP attempts) by command name, on the very client the inventory uses. */
function countCalls(client: { middlewareStack: EC2Client['middlewareStack'] }): Record<string, number> {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts[context.commandName!] = (counts[context.commandName!] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return counts;
}

/** A second region in the same partition. */
const elsewhereOf = (region: string) => (region.startsWith('cn-') ? 'cn-northwest-1' : 'eu-north-1');

describe.each(['eu-west-3', 'cn-north-1'])('AwsInventory in %s', (region) => {
  const partition = partitionOf(region);
  let fake: FakeSsm;
  let clients: AwsClients;
  let now: number;

  function makeClients(accounts: AccountAccess[] = [{ id: HOME_ACCOUNT }]) {
    return new AwsClients({
      accounts,
      region,
      credentials: CREDENTIALS,
      endpoints: { ec2: moto, sts: moto, ssm: fake.url },
      maxAttempts: 3,
    });
  }

  function inventory(options: { accounts?: string[]; regions?: string[]; ttlMs?: number; using?: AwsClients } = {}) {
    return new AwsInventory({
      clients: options.using ?? clients,
      accounts: options.accounts ?? [HOME_ACCOUNT],
      regions: options.regions ?? [region],
      ttlMs: options.ttlMs,
      now: () => now,
    });
  }

  async function launch(client: EC2Client, tags: Record<string, string>): Promise<string> {
    const Tags: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const out = await client.send(
      new RunInstancesCommand({
        ImageId: AMI,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        TagSpecifications: [{ ResourceType: 'instance', Tags }],
      }),
    );
    return out.Instances![0]!.InstanceId!;
  }

  beforeEach(async () => {
    now = Date.UTC(2025, 0, 15, 9);
    fake = await FakeSsm.start({ accountOf });
    clients = makeClients();
  });

  afterEach(async () => {
    clients.destroy();
    await fake.close();
  });

  it('is in the partition its region belongs to', () => {
    expect(clients.partition).toBe(region.startsWith('cn-') ? 'aws-cn' : 'aws');
    expect(partition).toBe(clients.partition);
  });

  it('resolves an instance id to the node with its tags, state and SSM ping status', async () => {
    const name = uniqueName('web');
    const id = await launch(clients.ec2(HOME_ACCOUNT, region), { Name: name, Env: 'prod', Team: 'web' });
    fake.addNode({ id, pingStatus: 'Online', tags: {}, region });

    const lookup = await inventory().resolve(id);

    expect(lookup).toEqual({
      kind: 'found',
      node: {
        id,
        account: HOME_ACCOUNT,
        region,
        name,
        tags: { Name: name, Env: 'prod', Team: 'web' },
        state: 'running',
        pingStatus: 'Online',
      },
    });
  });

  it('accepts an id typed in upper case', async () => {
    const id = await launch(clients.ec2(HOME_ACCOUNT, region), { Name: uniqueName('upper') });
    const lookup = await inventory().resolve(`  ${id.toUpperCase()} `);
    expect(lookup.kind === 'found' && lookup.node.id).toBe(id);
  });

  it('reports NotRegistered for an instance SSM does not know, and each other ping status as SSM says', async () => {
    const ec2 = clients.ec2(HOME_ACCOUNT, region);
    const unregistered = await launch(ec2, { Name: uniqueName('bare') });
    const lost = await launch(ec2, { Name: uniqueName('lost') });
    const inactive = await launch(ec2, { Name: uniqueName('inactive') });
    fake.addNode({ id: lost, pingStatus: 'ConnectionLost', tags: {}, region });
    fake.addNode({ id: inactive, pingStatus: 'Inactive', tags: {}, region });

    const nodes = await inventory().describe([unregistered, lost, inactive]);

    expect(nodes.map((n) => [n.id, n.pingStatus])).toEqual([
      [unregistered, 'NotRegistered'],
      [lost, 'ConnectionLost'],
      [inactive, 'Inactive'],
    ]);
  });

  it('answers not_found for an id no account or region has, and for an unknown name', async () => {
    await expect(inventory().resolve(unknownId(0xdead))).resolves.toEqual({ kind: 'not_found' });
    await expect(inventory().resolve(uniqueName('nobody'))).resolves.toEqual({ kind: 'not_found' });
    await expect(inventory().resolve('   ')).resolves.toEqual({ kind: 'not_found' });
  });

  it('resolves a Name tag carried by exactly one node', async () => {
    const name = uniqueName('solo');
    const id = await launch(clients.ec2(HOME_ACCOUNT, region), { Name: name, Env: 'dev' });
    fake.addNode({ id, pingStatus: 'Online', tags: { Name: name }, region });

    const lookup = await inventory().resolve(name);

    expect(lookup).toEqual({
      kind: 'found',
      node: {
        id,
        account: HOME_ACCOUNT,
        region,
        name,
        tags: { Name: name, Env: 'dev' },
        state: 'running',
        pingStatus: 'Online',
      },
    });
  });

  it('lists every node when a Name is carried by several, across accounts and hybrid nodes', async () => {
    const twoAccounts = makeClients([
      { id: HOME_ACCOUNT },
      { id: OTHER_ACCOUNT, assumeRoleArn: `arn:${partition}:iam::${OTHER_ACCOUNT}:role/jitbot-inventory` },
    ]);
    try {
      const name = uniqueName('shared');
      const home = await launch(twoAccounts.ec2(HOME_ACCOUNT, region), { Name: name });
      const other = await launch(twoAccounts.ec2(OTHER_ACCOUNT, region), { Name: name });
      const hybrid = 'mi-0abcdef0123456789';
      fake.addNode({ id: hybrid, pingStatus: 'Online', tags: { Name: name }, region, account: HOME_ACCOUNT });
      // An EC2 instance SSM also reports under the same tag is counted once (from EC2), not twice.
      fake.addNode({ id: home, pingStatus: 'Online', tags: { Name: name }, region, account: HOME_ACCOUNT });

      const lookup = await inventory({ accounts: [HOME_ACCOUNT, OTHER_ACCOUNT], using: twoAccounts }).resolve(name);

      expect(lookup.kind).toBe('ambiguous');
      const nodes = lookup.kind === 'ambiguous' ? lookup.nodes : [];
      expect(nodes.map((n) => ({ id: n.id, name: n.name, account: n.account, region: n.region }))).toEqual([
        { id: home, name, account: HOME_ACCOUNT, region },
        { id: hybrid, name, account: HOME_ACCOUNT, region },
        { id: other, name, account: OTHER_ACCOUNT, region },
      ]);
    } finally {
      twoAccounts.destroy();
    }
  });

  it('finds an instance in whichever configured account and region holds it', async () => {
    const twoAccounts = makeClients([
      { id: HOME_ACCOUNT },
      { id: OTHER_ACCOUNT, assumeRoleArn: `arn:${partition}:iam::${OTHER_ACCOUNT}:role/jitbot-inventory` },
    ]);
    const elsewhere = elsewhereOf(region);
    try {
      const name = uniqueName('far');
      const id = await launch(twoAccounts.ec2(OTHER_ACCOUNT, elsewhere), { Name: name });
      const inv = inventory({
        accounts: [HOME_ACCOUNT, OTHER_ACCOUNT],
        regions: [region, elsewhere],
        using: twoAccounts,
      });

      const byId = await inv.resolve(id);
      const byName = await inv.resolve(name);

      expect(byId.kind === 'found' && [byId.node.account, byId.node.region]).toEqual([OTHER_ACCOUNT, elsewhere]);
      expect(byName.kind === 'found' && byName.node.id).toBe(id);
    } finally {
      twoAccounts.destroy();
    }
  });

  it('takes * and ? in a Name literally, so a wildcard cannot list the fleet', async () => {
    const prefix = uniqueName('wild');
    const ec2 = clients.ec2(HOME_ACCOUNT, region);
    await launch(ec2, { Name: `${prefix}-1` });
    await launch(ec2, { Name: `${prefix}-2` });
    const literal = await launch(ec2, { Name: `${prefix}-*` });
    fake.addNode({ id: 'mi-0000000000000abcd', pingStatus: 'Online', tags: { Name: `${prefix}-3` }, region });
    const inv = inventory();

    await expect(inv.resolve(`${prefix}-?`)).resolves.toEqual({ kind: 'not_found' });
    await expect(inv.resolve('*')).resolves.toEqual({ kind: 'not_found' });
    const star = await inv.resolve(`${prefix}-*`);
    expect(star.kind === 'found' && star.node.id).toBe(literal);
  });

  it('leaves terminated instances out of Name lookups', async () => {
    const name = uniqueName('phoenix');
    const ec2 = clients.ec2(HOME_ACCOUNT, region);
    const dead = await launch(ec2, { Name: name });
    const alive = await launch(ec2, { Name: name });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [dead] }));

    const lookup = await inventory().resolve(name);

    expect(lookup.kind === 'found' && lookup.node.id).toBe(alive);
  });

  it('resolves hybrid mi- nodes by id and by Name with their SSM tags', async () => {
    const name = uniqueName('legacy');
    const id = 'mi-0123456789abcdef0';
    fake.addNode({
      id,
      pingStatus: 'ConnectionLost',
      tags: { Name: name, Env: 'prod' },
      name: 'activation-name',
      region,
    });
    const inv = inventory();

    const byId = await inv.resolve(id);
    const byName = await inv.resolve(name);

    const expected = {
      id,
      account: HOME_ACCOUNT,
      region,
      name,
      tags: { Name: name, Env: 'prod' },
      pingStatus: 'ConnectionLost',
    };
    expect(byId).toEqual({ kind: 'found', node: expected });
    expect(byName).toEqual({ kind: 'found', node: expected });
    expect(fake.calls.find((c) => c.operation === 'ListTagsForResource')?.input).toEqual({
      ResourceType: 'ManagedInstance',
      ResourceId: id,
    });
  });

  it('names a hybrid node without a Name tag after its activation', async () => {
    fake.addNode({ id: 'mi-0fedcba9876543210', pingStatus: 'Online', tags: { Env: 'lab' }, name: 'lab-box', region });
    const lookup = await inventory().resolve('mi-0fedcba9876543210');
    expect(lookup.kind === 'found' && lookup.node.name).toBe('lab-box');
  });

  it('still resolves known hybrid nodes when SSM rejects a batch for an unknown id', async () => {
    await fake.close();
    fake = await FakeSsm.start({ strictInstanceIds: true, accountOf });
    clients.destroy();
    clients = makeClients();
    const known = ['mi-00000000000000001', 'mi-00000000000000003'];
    for (const id of known) fake.addNode({ id, pingStatus: 'Online', tags: { Name: id }, region });

    const nodes = await inventory().describe(['mi-00000000000000001', 'mi-00000000000000002', 'mi-00000000000000003']);

    expect(nodes.map((n) => n.id)).toEqual(known);
  });

  it('answers a repeated lookup from the cache until the TTL passes', async () => {
    const name = uniqueName('cached');
    const id = await launch(clients.ec2(HOME_ACCOUNT, region), { Name: name });
    const ec2Calls = countCalls(clients.ec2(HOME_ACCOUNT, region));
    const inv = inventory({ ttlMs: 60_000 });

    await inv.resolve(id);
    await inv.resolve(name);
    await inv.resolve(name);
    await inv.resolve(id);
    expect(ec2Calls.DescribeInstancesCommand).toBe(2); // one by id, one by Name; the rest from the cache

    now += 60_001;
    await inv.resolve(id);
    expect(ec2Calls.DescribeInstancesCommand).toBe(3);
  });

  it('shares one in-flight call between identical concurrent lookups', async () => {
    const name = uniqueName('rush');
    await launch(clients.ec2(HOME_ACCOUNT, region), { Name: name });
    const ec2Calls = countCalls(clients.ec2(HOME_ACCOUNT, region));
    const inv = inventory();

    const lookups = await Promise.all([inv.resolve(name), inv.resolve(name), inv.resolve(name)]);

    expect(lookups.map((l) => l.kind)).toEqual(['found', 'found', 'found']);
    expect(ec2Calls.DescribeInstancesCommand).toBe(1);
  });

  it('does not cache failures, and names the account and region in the error', async () => {
    fake.failNext(1, 'AccessDeniedException', { operation: 'DescribeInstanceInformation', message: 'not allowed' });
    const inv = inventory();
    const id = 'mi-0aaaabbbbccccdddd';
    fake.addNode({ id, pingStatus: 'Online', tags: { Name: 'x' }, region });

    const failure = await inv.resolve(id).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InventoryLookupError);
    expect((failure as Error).message).toBe(
      `ssm:DescribeInstanceInformation failed in account ${HOME_ACCOUNT}, region ${region}: AccessDeniedException: not allowed`,
    );
    expect((failure as Error).message).not.toContain(CREDENTIALS.accessKeyId);

    await expect(inv.resolve(id)).resolves.toMatchObject({ kind: 'found', node: { id } });
  });

  it('asks EC2 about 1,200 ids in batches of 200 and reuses the cache for ids seen before', async () => {
    const real = await launch(clients.ec2(HOME_ACCOUNT, region), { Name: uniqueName('needle') });
    const ids = [...Array.from({ length: 1199 }, (_, i) => unknownId(i + 1)), real];
    const ec2Calls = countCalls(clients.ec2(HOME_ACCOUNT, region));
    const inv = inventory();

    const nodes = await inv.describe(ids);
    expect(nodes.map((n) => n.id)).toEqual([real]);
    expect(ec2Calls.DescribeInstancesCommand).toBe(6);

    await inv.describe([...ids.slice(0, 600), unknownId(5000)]);
    expect(ec2Calls.DescribeInstancesCommand).toBe(7);
  });
});
