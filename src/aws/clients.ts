import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { partitionOf, type Partition } from '../core/partition';

export interface AccountAccess {
  id: string;
  /** Role jitbot assumes to work in this account; absent: its own credentials already are in this account. */
  assumeRoleArn?: string;
  externalId?: string;
}

export interface AwsClientsOptions {
  accounts: AccountAccess[];
  /** The home region: decides the partition and where IAM/STS calls go. */
  region: string;
  /** Base credentials (default: the SDK's chain). Tests pass fixed fake ones. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Explicit endpoints (tests); otherwise the SDK's own resolution, which honours AWS_ENDPOINT_URL_<SERVICE>. */
  endpoints?: Partial<Record<'iam' | 'sts' | 'ec2' | 'ssm', string>>;
  /** SDK attempts per call: the standard retry strategy backs off with jitter on throttling and 5xx. */
  maxAttempts?: number;
  /** Clock for credential expiry (ms). */
  now?: () => number;
}

/** Refresh assumed-role credentials this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const SESSION_NAME = 'jitbot';

/** IAM is a global service per partition, signed in one region. */
const IAM_SIGNING_REGION: Record<Partition, string> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-north-1',
  'aws-us-gov': 'us-gov-west-1',
};

/**
 * One place that makes AWS SDK clients per account and region: cross-account access through STS
 * AssumeRole (with external id), credentials cached until near expiry, retries with backoff and jitter.
 */
export class AwsClients {
  readonly partition: Partition;
  private readonly cache = new Map<string, { destroy(): void }>();
  private readonly credentialProviders = new Map<string, AwsCredentialIdentityProvider>();
  private readonly sts: STSClient;

  constructor(private readonly options: AwsClientsOptions) {
    this.partition = partitionOf(options.region);
    this.sts = new STSClient(this.base(options.region, 'sts'));
  }

  iam(accountId: string): IAMClient {
    return this.memo(
      `iam:${accountId}`,
      () => new IAMClient(this.config(accountId, IAM_SIGNING_REGION[this.partition], 'iam')),
    );
  }

  ec2(accountId: string, region: string): EC2Client {
    return this.memo(`ec2:${accountId}:${region}`, () => new EC2Client(this.config(accountId, region, 'ec2')));
  }

  ssm(accountId: string, region: string): SSMClient {
    return this.memo(`ssm:${accountId}:${region}`, () => new SSMClient(this.config(accountId, region, 'ssm')));
  }

  stsClient(): STSClient {
    return this.sts;
  }

  destroy(): void {
    for (const client of this.cache.values()) client.destroy();
    this.sts.destroy();
    this.cache.clear();
  }

  private memo<T extends { destroy(): void }>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  private base(region: string, service: 'iam' | 'sts' | 'ec2' | 'ssm') {
    return {
      region,
      endpoint: this.options.endpoints?.[service],
      credentials: this.options.credentials,
      maxAttempts: this.options.maxAttempts ?? 5,
    };
  }

  private config(accountId: string, region: string, service: 'iam' | 'ec2' | 'ssm') {
    const account = this.options.accounts.find((a) => a.id === accountId);
    if (!account) throw new Error(`account ${accountId} is not configured under aws.accounts`);
    const base = this.base(region, service);
    return account.assumeRoleArn ? { ...base, credentials: this.assumedRole(account) } : base;
  }

  private assumedRole(account: AccountAccess): AwsCredentialIdentityProvider {
    const existing = this.credentialProviders.get(account.id);
    if (existing) return existing;
    const provider = (() => {
      const now = this.options.now ?? Date.now;
      let cached: AwsCredentialIdentity | undefined;
      let inflight: Promise<AwsCredentialIdentity> | undefined;
      const fresh = () => cached?.expiration !== undefined && cached.expiration.getTime() - REFRESH_MARGIN_MS > now();
      return async () => {
        if (fresh()) return cached!;
        inflight ??= this.sts
          .send(
            new AssumeRoleCommand({
              RoleArn: account.assumeRoleArn!,
              RoleSessionName: SESSION_NAME,
              ExternalId: account.externalId,
            }),
          )
          .then((out) => {
            const c = out.Credentials;
            if (!c?.AccessKeyId || !c.SecretAccessKey)
              throw new Error(`AssumeRole into ${account.assumeRoleArn} returned no credentials`);
            cached = {
              accessKeyId: c.AccessKeyId,
              secretAccessKey: c.SecretAccessKey,
              sessionToken: c.SessionToken,
              expiration: c.Expiration,
            };
            return cached;
          })
          .finally(() => {
            inflight = undefined;
          });
        return inflight;
      };
    })();
    this.credentialProviders.set(account.id, provider);
    return provider;
  }
}
