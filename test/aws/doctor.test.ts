import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  type IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requesterBasePolicy } from '../../src/aws/base-policy';
import { AwsClients } from '../../src/aws/clients';
import { allowsSessionDocuments, grantsStandingNodeAccess, runDoctor, type DoctorCheck } from '../../src/aws/doctor';
import type { AwsPrincipal } from '../../src/core/model';
import { FAKE_CREDENTIALS, MOTO_ACCOUNT, motoClients, setupIam, uniqueName } from './simulate-env';

const REGION = 'cn-north-1';
const P = 'aws-cn';
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${P}:iam::${MOTO_ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
});

let clients: AwsClients;
let iam: IAMClient;
let basePolicyArn: string;

beforeAll(async () => {
  clients = motoClients(REGION);
  iam = setupIam(REGION);
  const { Policy } = await iam.send(
    new CreatePolicyCommand({
      PolicyName: uniqueName('jitbot-requester-base'),
      PolicyDocument: JSON.stringify(requesterBasePolicy(P)),
    }),
  );
  basePolicyArn = Policy!.Arn!;
});
afterAll(() => {
  clients.destroy();
  iam.destroy();
});

const doc = (statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

async function doctor(
  principals: AwsPrincipal[],
  checkTable: () => Promise<string | undefined> = async () => 'table ok',
): Promise<DoctorCheck[]> {
  return runDoctor({ clients, principals, accounts: [MOTO_ACCOUNT], checkTable });
}

const byName = (checks: DoctorCheck[], prefix: string) => checks.find((c) => c.name.startsWith(prefix));

describe('runDoctor', () => {
  test('checks credentials, partition and the table', async () => {
    const checks = await doctor([]);
    expect(checks[0]).toMatchObject({ name: 'AWS credentials and partition', ok: true });
    expect(checks[0]!.detail).toContain(MOTO_ACCOUNT);
    expect(checks[1]).toEqual({ name: 'state table', ok: true, severity: 'error', detail: 'table ok' });

    const failing = await doctor([], async () => {
      throw new Error('table "jitbot" not found in cn-north-1');
    });
    expect(failing[1]).toMatchObject({ ok: false, detail: 'table "jitbot" not found in cn-north-1' });
  });

  test('a well set-up user: base policy attached, no standing access (jitbot-grants itself does not count)', async () => {
    const name = uniqueName('dana');
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: basePolicyArn }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: 'jitbot-grants',
        PolicyDocument: doc({
          Sid: 'JIT7K3Q2',
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: `arn:${P}:ec2:${REGION}:${MOTO_ACCOUNT}:instance/i-0123456789abcdef0`,
          Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        }),
      }),
    );
    const checks = await doctor([{ kind: 'iam-user', arn: `arn:${P}:iam::${MOTO_ACCOUNT}:user/${name}` }]);
    expect(byName(checks, 'base policy:')).toMatchObject({ name: `base policy: IAM user ${name}`, ok: true });
    expect(byName(checks, 'no standing access:')).toMatchObject({ ok: true });
  });

  test('warns about standing StartSession through a group, and reports a missing base policy', async () => {
    const name = uniqueName('erin');
    const group = uniqueName('ops');
    await iam.send(new CreateUserCommand({ UserName: name }));
    await iam.send(new CreateGroupCommand({ GroupName: group }));
    await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: name }));
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: uniqueName('legacy-ssm'),
        PolicyDocument: doc({ Effect: 'Allow', Action: 'ssm:Start*', Resource: `arn:${P}:ec2:*:*:instance/*` }),
      }),
    );
    await iam.send(new AttachGroupPolicyCommand({ GroupName: group, PolicyArn: Policy!.Arn! }));

    const checks = await doctor([{ kind: 'iam-user', arn: `arn:${P}:iam::${MOTO_ACCOUNT}:user/${name}` }]);
    expect(byName(checks, 'base policy:')).toMatchObject({ ok: false, severity: 'error' });
    const standing = byName(checks, 'no standing access:')!;
    expect(standing).toMatchObject({ ok: false, severity: 'warning' });
    expect(standing.detail).toContain(`managed policy ${Policy!.PolicyName} (via group ${group})`);
  });

  test('warns about a role with ssm:* on everything', async () => {
    const role = uniqueName('engineers');
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: 'admin-ish',
        PolicyDocument: doc({ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }),
      }),
    );
    const checks = await doctor([{ kind: 'iam-role', arn: `arn:${P}:iam::${MOTO_ACCOUNT}:role/${role}` }]);
    expect(byName(checks, 'no standing access:')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`inline policy admin-ish of role ${role}`),
    });
  });

  test('Identity Center: a missing policy is an error; a provisioned role is inspected', async () => {
    const policyName = uniqueName('jit-ps');
    const principal: AwsPrincipal = {
      kind: 'sso-permission-set',
      arn: 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
      policyName,
    };
    const missing = await doctor([principal]);
    expect(byName(missing, 'requester')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`policy ${policyName} does not exist in account ${MOTO_ACCOUNT}`),
    });

    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: policyName,
        PolicyDocument: doc({
          Effect: 'Deny',
          Action: 'ssm:StartSession',
          Resource: `arn:${P}:ec2:*:*:instance/jitbot-no-grants`,
        }),
      }),
    );
    const role = uniqueName('AWSReservedSSO_Ops');
    await iam.send(
      new CreateRoleCommand({
        RoleName: role,
        Path: '/aws-reserved/sso.amazonaws.com/',
        AssumeRolePolicyDocument: TRUST,
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: Policy!.Arn! }));
    await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: basePolicyArn }));

    const checks = await doctor([principal]);
    expect(byName(checks, 'base policy:')).toMatchObject({
      name: `base policy: Identity Center policy ${policyName} in ${MOTO_ACCOUNT}`,
      ok: true,
    });
    expect(byName(checks, 'no standing access:')).toMatchObject({ ok: true });
  });

  test('credentials from the wrong partition are an error', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
          '<Arn>arn:aws:iam::123456789012:user/jitbot</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>' +
          '</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const wrong = new AwsClients({
      accounts: [{ id: MOTO_ACCOUNT }],
      region: REGION,
      credentials: FAKE_CREDENTIALS,
      endpoints: { sts: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    });
    try {
      const [credentials] = await runDoctor({
        clients: wrong,
        principals: [],
        accounts: [],
        checkTable: async () => undefined,
      });
      expect(credentials).toMatchObject({
        ok: false,
        detail: expect.stringContaining('configured regions are in aws-cn'),
      });
    } finally {
      wrong.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('static policy reading', () => {
  const statement = (s: object) => doc(s);
  test.each([
    [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*' }, true],
    [{ Effect: 'Allow', Action: '*', Resource: '*' }, true],
    [
      {
        Effect: 'Allow',
        Action: 'SSM:startsession',
        Resource: 'arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0abc',
      },
      true,
    ],
    [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: 'arn:aws-cn:ssm:*:*:managed-instance/*' }, true],
    [{ Effect: 'Allow', Action: 'ssm:StartSession', NotResource: 'arn:aws-cn:ec2:*:*:instance/i-0abc' }, true],
    [{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, true],
    [
      {
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: 'arn:aws-cn:ssm:*:*:document/SSM-SessionManagerRunShell',
      },
      false,
    ],
    [{ Effect: 'Deny', Action: 'ssm:StartSession', Resource: '*' }, false],
    [{ Effect: 'Allow', NotAction: 'ssm:*', Resource: '*' }, false],
    [{ Effect: 'Allow', Action: 'ssm:DescribeSessions', Resource: '*' }, false],
  ])('standing node access in %j: %s', (s, expected) => {
    expect(grantsStandingNodeAccess(statement(s))).toBe(expected);
  });

  test('the base policy allows session documents and no node', () => {
    const base = JSON.stringify(requesterBasePolicy('aws-cn'));
    expect(allowsSessionDocuments(base)).toBe(true);
    expect(grantsStandingNodeAccess(base)).toBe(false);
  });
});
