import type { Partition } from '../core/partition';
import { STORE_ACTIONS } from '../store/table';

// The static IAM documents an admin sets up once: the requesters' base policy (everything Session Manager needs
// except access to a node, which only jitbot's time-boxed grants give), jitbot's own least-privilege policy, and the
// trust policy of the role jitbot assumes in each further account. See docs/aws-iam.md.

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface IamDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

/** Session documents requesters may use. RunShell is the default; the others need explicit document access. */
export const SESSION_DOCUMENTS = [
  'SSM-SessionManagerRunShell',
  'AWS-StartPortForwardingSession',
  'AWS-StartSSHSession',
] as const;

export interface RequesterBaseOptions {
  /** Restrict to these regions (default: any). */
  regions?: readonly string[];
  /** Restrict to these accounts (default: any). AWS-owned documents always use `*`, which also matches the empty account field. */
  accounts?: readonly string[];
  documents?: readonly string[];
}

function orAny(values: readonly string[] | undefined): string[] {
  return values && values.length > 0 ? [...values] : ['*'];
}

function one<T>(values: T[]): T | T[] {
  return values.length === 1 ? values[0]! : values;
}

function cross(regions: string[], accounts: string[], make: (region: string, account: string) => string): string[] {
  return regions.flatMap((region) => accounts.map((account) => make(region, account)));
}

/**
 * What every requester holds permanently. It grants no access to any node: ssm:StartSession needs both a document
 * and a node, and only jitbot's grants allow the node. Attach it to the requesters' users, groups, roles or
 * permission sets.
 */
export function requesterBasePolicy(partition: Partition, options: RequesterBaseOptions = {}): IamDocument {
  const regions = orAny(options.regions);
  const accounts = orAny(options.accounts);
  const documents = options.documents ?? SESSION_DOCUMENTS;
  const documentArns = documents.flatMap((document) =>
    // SSM-SessionManagerRunShell is created in the customer's account; AWS-* documents are owned by AWS, so their
    // account field is `*` (which also matches the empty account AWS sometimes writes).
    cross(
      regions,
      document.startsWith('AWS-') ? ['*'] : accounts,
      (r, a) => `arn:${partition}:ssm:${r}:${a}:document/${document}`,
    ),
  );
  const sessionArns = cross(regions, accounts, (r, a) => `arn:${partition}:ssm:${r}:${a}:session/*`);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'SessionDocuments',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: one(documentArns),
        Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
      },
      {
        Sid: 'SeeNodesAndSessions',
        Effect: 'Allow',
        Action: [
          'ssm:DescribeSessions',
          'ssm:GetConnectionStatus',
          'ssm:DescribeInstanceProperties',
          'ssm:DescribeInstanceInformation',
          'ec2:DescribeInstances',
        ],
        Resource: '*',
      },
      {
        // Session ids start with the caller's name, not their user id, so ownership is checked through the tag
        // Session Manager puts on every session.
        Sid: 'OwnSessionsOnly',
        Effect: 'Allow',
        Action: ['ssm:TerminateSession', 'ssm:ResumeSession'],
        Resource: one(sessionArns),
        Condition: { StringEquals: { 'ssm:resourceTag/aws:ssmmessages:session-id': '${aws:userid}' } },
      },
      {
        // Opening a data channel needs the token returned by the caller's own StartSession/ResumeSession.
        Sid: 'SessionDataChannel',
        Effect: 'Allow',
        Action: 'ssmmessages:OpenDataChannel',
        Resource: one(sessionArns),
      },
    ],
  };
}

export interface BotPolicyOptions {
  /** Accounts the policy covers (default: any account the credentials reach). */
  accounts?: readonly string[];
  /** Identity Center customer-managed policies jitbot rewrites (`policyName` of sso-permission-set identities). */
  ssoPolicyNames?: readonly string[];
  /** Roles jitbot assumes into other accounts (aws.accounts[].assumeRoleArn). */
  assumeRoleArns?: readonly string[];
  /** The DynamoDB table (omit when the table's own policy from infra/ is attached instead). */
  tableArn?: string;
  /** Only let jitbot edit users and roles carrying this tag (recommended: tag every requester principal). */
  principalTag?: { key: string; value: string };
  /** jitbot's own user or role (and the roles it assumes): it must never be able to edit its own permissions. */
  selfArns?: readonly string[];
}

/**
 * jitbot's own permissions, least privilege for what the granter, the inventory, the session terminator and
 * the doctor call. Put*Policy cannot be limited by policy content, so use `principalTag` and `selfArns`.
 */
export function botPolicy(partition: Partition, options: BotPolicyOptions = {}): IamDocument {
  const accounts = orAny(options.accounts);
  const iamArns = (type: string) => accounts.map((a) => `arn:${partition}:iam::${a}:${type}`);
  const tagged: IamStatement['Condition'] = options.principalTag
    ? { StringEquals: { [`aws:ResourceTag/${options.principalTag.key}`]: options.principalTag.value } }
    : undefined;
  const statements: IamStatement[] = [
    {
      Sid: 'GrantsOnUsersAndRoles',
      Effect: 'Allow',
      Action: [
        'iam:ListUserPolicies',
        'iam:GetUserPolicy',
        'iam:PutUserPolicy',
        'iam:DeleteUserPolicy',
        'iam:ListRolePolicies',
        'iam:GetRolePolicy',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:GetRole',
      ],
      Resource: [...iamArns('user/*'), ...iamArns('role/*')],
      ...(tagged ? { Condition: tagged } : {}),
    },
  ];
  const ssoPolicies = options.ssoPolicyNames ?? [];
  if (ssoPolicies.length > 0) {
    statements.push({
      Sid: 'IdentityCenterGrantPolicies',
      Effect: 'Allow',
      Action: [
        'iam:GetPolicy',
        'iam:GetPolicyVersion',
        'iam:ListPolicyVersions',
        'iam:CreatePolicy',
        'iam:CreatePolicyVersion',
        'iam:DeletePolicyVersion',
        'iam:ListEntitiesForPolicy',
      ],
      Resource: ssoPolicies.flatMap((name) => iamArns(`policy/${name}`)),
    });
  }
  statements.push(
    {
      Sid: 'DoctorReadsRequesterPolicies',
      Effect: 'Allow',
      Action: [
        'iam:ListAttachedUserPolicies',
        'iam:ListAttachedRolePolicies',
        'iam:ListGroupsForUser',
        'iam:ListGroupPolicies',
        'iam:GetGroupPolicy',
        'iam:ListAttachedGroupPolicies',
        'iam:GetPolicy',
        'iam:GetPolicyVersion',
      ],
      Resource: [
        ...iamArns('user/*'),
        ...iamArns('role/*'),
        ...iamArns('group/*'),
        ...iamArns('policy/*'),
        `arn:${partition}:iam::aws:policy/*`,
      ],
    },
    {
      Sid: 'NodesAndSessions',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'ssm:DescribeSessions',
        'sts:GetCallerIdentity',
      ],
      Resource: '*',
    },
    {
      Sid: 'HybridNodeTags',
      Effect: 'Allow',
      Action: 'ssm:ListTagsForResource',
      Resource: one(accounts.map((a) => `arn:${partition}:ssm:*:${a}:managed-instance/*`)),
    },
    {
      Sid: 'EndSessions',
      Effect: 'Allow',
      Action: 'ssm:TerminateSession',
      Resource: one(accounts.map((a) => `arn:${partition}:ssm:*:${a}:session/*`)),
    },
  );
  if (options.assumeRoleArns && options.assumeRoleArns.length > 0) {
    statements.push({
      Sid: 'AccountRoles',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: one([...options.assumeRoleArns]),
    });
  }
  if (options.tableArn) {
    statements.push({
      Sid: 'StateTable',
      Effect: 'Allow',
      Action: [...STORE_ACTIONS],
      Resource: [options.tableArn, `${options.tableArn}/index/*`],
    });
  }
  if (options.selfArns && options.selfArns.length > 0) {
    statements.push({
      Sid: 'NeverEditItself',
      Effect: 'Deny',
      Action: [
        'iam:PutUserPolicy',
        'iam:DeleteUserPolicy',
        'iam:AttachUserPolicy',
        'iam:DetachUserPolicy',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:AttachRolePolicy',
        'iam:DetachRolePolicy',
        'iam:UpdateAssumeRolePolicy',
        'iam:PutUserPermissionsBoundary',
        'iam:PutRolePermissionsBoundary',
        'iam:DeleteUserPermissionsBoundary',
        'iam:DeleteRolePermissionsBoundary',
      ],
      Resource: one([...options.selfArns]),
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * Trust policy of the role jitbot assumes in another account (`aws.accounts[].assumeRoleArn`): only jitbot's
 * principal, and only with the external id when one is configured. Its permissions: botPolicy for that account,
 * without `assumeRoleArns` and `tableArn`.
 */
export function accountRoleTrustPolicy(options: { botPrincipalArn: string; externalId?: string }): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'JitbotOnly',
        Effect: 'Allow',
        Principal: { AWS: options.botPrincipalArn },
        Action: 'sts:AssumeRole',
        ...(options.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': options.externalId } } } : {}),
      },
    ],
  };
}
