import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { AwsClients } from '../../src/aws/clients';

// Cross-account access through STS AssumeRole against moto: credentials are cached until near expiry.

const moto = process.env.MOTO_ENDPOINT;
if (!moto) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');

test('assumed-role credentials are fetched once, reused, and refreshed shortly before they expire', async () => {
  let now = Date.now();
  const clients = new AwsClients({
    accounts: [
      { id: '210987654321', assumeRoleArn: 'arn:aws-cn:iam::210987654321:role/jitbot-operator', externalId: 'ext-123' },
    ],
    region: 'cn-north-1',
    credentials: { accessKeyId: 'AKIDCLIENTSTEST', secretAccessKey: 'fake' },
    endpoints: { sts: moto, ec2: moto },
    now: () => now,
  });
  const assumeRoles: Record<string, unknown>[] = [];
  clients.stsClient().middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'AssumeRoleCommand') assumeRoles.push(args.input as Record<string, unknown>);
      return next(args);
    },
    { step: 'initialize', name: 'countAssumeRole' },
  );
  try {
    const ec2 = clients.ec2('210987654321', 'cn-north-1');
    await ec2.send(new DescribeInstancesCommand({}));
    await ec2.send(new DescribeInstancesCommand({}));
    await clients.ec2('210987654321', 'cn-northwest-1').send(new DescribeInstancesCommand({}));
    expect(assumeRoles).toHaveLength(1);
    expect(assumeRoles[0]).toMatchObject({
      RoleArn: 'arn:aws-cn:iam::210987654321:role/jitbot-operator',
      ExternalId: 'ext-123',
    });

    // A client made later (here for SSM) asks the shared provider again: still cached while fresh…
    const identity = await ec2.config.credentials();
    now = identity.expiration!.getTime() - 6 * 60_000;
    await clients.ssm('210987654321', 'cn-north-1').config.credentials();
    expect(assumeRoles).toHaveLength(1);
    // …and fetched anew inside the 5-minute refresh margin.
    now = identity.expiration!.getTime() - 4 * 60_000;
    await clients.ssm('210987654321', 'cn-northwest-1').config.credentials();
    expect(assumeRoles).toHaveLength(2);
    expect(() => clients.ec2('999999999999', 'cn-north-1')).toThrow('account 999999999999 is not configured');
  } finally {
    clients.destroy();
  }
});

test('IAM calls are signed in the partition’s IAM region', async () => {
  const cn = new AwsClients({
    accounts: [{ id: '123456789012' }],
    region: 'cn-northwest-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const global = new AwsClients({
    accounts: [{ id: '123456789012' }],
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  try {
    expect(cn.partition).toBe('aws-cn');
    expect(await cn.iam('123456789012').config.region()).toBe('cn-north-1');
    expect(global.partition).toBe('aws');
    expect(await global.iam('123456789012').config.region()).toBe('us-east-1');
  } finally {
    cn.destroy();
    global.destroy();
  }
});
