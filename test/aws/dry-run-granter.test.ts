import { DryRunGranter } from '../../src/aws/dry-run-granter';
import type { AwsPrincipal } from '../../src/core/model';
import { GrantRefused } from '../../src/ports/granter';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';

const HOUR = 3_600_000;

function grantFor(principal: AwsPrincipal) {
  const request = makeRequest({ requester: { ...makeRequest().requester, principal } });
  return new DryRunGranter().grant(request, FIXTURE_NOW, FIXTURE_NOW + HOUR);
}

test('a dry run shows the exact IAM call and policy for an IAM user, in the node’s partition', async () => {
  const grant = await grantFor({ kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' });
  expect(grant).toMatchObject({ dryRun: true, grantId: 'JIT-7K3Q2', expiresAt: FIXTURE_NOW + HOUR });
  expect(grant.detail).toMatch(/^iam:PutUserPolicy UserName=dana PolicyName=jitbot-grants PolicyDocument=/);
  const document = JSON.parse(grant.detail!.slice(grant.detail!.indexOf('{')));
  expect(document.Statement).toEqual([
    expect.objectContaining({
      Sid: 'JIT7K3Q2',
      Action: 'ssm:StartSession',
      Resource: 'arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0123456789abcdef0',
      Condition: expect.objectContaining({
        DateLessThan: { 'aws:CurrentTime': new Date(FIXTURE_NOW + HOUR).toISOString().replace('.000', '') },
      }),
    }),
  ]);
});

test('Identity Center grants name the customer-managed policy in the node’s account, not the permission set', async () => {
  const grant = await grantFor({
    kind: 'sso-permission-set',
    arn: 'arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
    policyName: 'ssm-jit-engineers',
    sessionName: 'dana@example.cn',
  });
  expect(grant.detail).toMatch(
    /^iam:CreatePolicyVersion PolicyArn=arn:aws-cn:iam::111122223333:policy\/ssm-jit-engineers SetAsDefault=true/,
  );
});

test('a principal that is not an IAM ARN is refused as the real granter would', async () => {
  await expect(grantFor({ kind: 'iam-user', arn: 'not-an-arn' })).rejects.toBeInstanceOf(GrantRefused);
});
