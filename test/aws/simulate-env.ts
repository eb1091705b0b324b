import { IAMClient } from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { AwsClients } from '../../src/aws/clients';
import type { JitRequest } from '../../src/core/model';
import type { SessionTerminator } from '../../src/ports/granter';
import { openStore, type OpenedStore } from '../../src/store/open-store';

// The simulated AWS the IAM tests run against: moto_server (started by the jest global setup) for the IAM API,
// @cloud-copilot/iam-simulate for what the written policies actually allow.

/** moto's default account. */
export const MOTO_ACCOUNT = '123456789012';
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret' };

export function motoEndpoint(): string {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) throw new Error('MOTO_ENDPOINT is not set: the jest global setup should have started moto_server');
  return endpoint;
}

/** AwsClients pointed at moto, as the granter uses them in production. */
export function motoClients(region: string): AwsClients {
  const endpoint = motoEndpoint();
  return new AwsClients({
    accounts: [{ id: MOTO_ACCOUNT }],
    region,
    credentials: FAKE_CREDENTIALS,
    endpoints: { iam: endpoint, sts: endpoint, ec2: endpoint, ssm: endpoint },
    maxAttempts: 2,
  });
}

/** A plain IAM client for arranging and inspecting moto state (signed in the partition's IAM region). */
export function setupIam(region: string): IAMClient {
  return new IAMClient({
    region: region.startsWith('cn-') ? 'cn-north-1' : 'us-east-1',
    endpoint: motoEndpoint(),
    credentials: FAKE_CREDENTIALS,
  });
}

let unique = 0;
/** Names unique across the whole test run (moto is shared by every test file). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++unique}`;
}

export function inMemoryStore(): Promise<OpenedStore> {
  return openStore({ embedded: { inMemory: true } });
}

export class FakeSessions implements SessionTerminator {
  readonly calls: string[] = [];
  constructor(private readonly perCall = 1) {}
  async terminateSessions(request: JitRequest): Promise<number> {
    this.calls.push(request.id);
    return this.perCall;
  }
}

export type Verdict = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | string;

export interface SimulatedRequest {
  /** The caller's ARN (user, or assumed-role session). */
  principal: string;
  /** aws:userid of the caller. */
  userId: string;
  resource: string;
  account: string;
  at: string;
  action?: string;
  /** Extra context keys, e.g. ssm:resourceTag/… for session resources. */
  context?: Record<string, string>;
}

/** What IAM would decide for one request given these identity policies (documents as objects). */
export async function simulate(
  policies: { name: string; policy: unknown }[],
  request: SimulatedRequest,
): Promise<Verdict> {
  const result = await runSimulation(
    {
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: request.principal,
        action: request.action ?? 'ssm:StartSession',
        resource: { resource: request.resource, accountId: request.account },
        contextVariables: { 'aws:CurrentTime': request.at, 'aws:userid': request.userId, ...request.context },
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation failed: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}
