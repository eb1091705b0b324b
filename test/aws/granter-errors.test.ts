import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsClients } from '../../src/aws/clients';
import { IamGranter } from '../../src/aws/iam-granter';
import type { JitRequest } from '../../src/core/model';
import { GrantRefused } from '../../src/ports/granter';
import type { OpenedStore } from '../../src/store/open-store';
import { FIXTURE_NOW, makeRequest } from '../support/fixtures';
import { ManualClock } from '../support/manual-clock';
import { FAKE_CREDENTIALS, FakeSessions, inMemoryStore } from './simulate-env';

// Error handling on the wire: a tiny IAM fake (awsQuery: form-encoded POST, XML answers) that answers each action
// from a script, so throttling, access denied and persistent failures can be injected exactly.

type Reply = { status: number; body: string };
const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

const ok = (action: string, result = ''): Reply => ({
  status: 200,
  body:
    `<${action}Response xmlns="${XMLNS}">` +
    (result ? `<${action}Result>${result}</${action}Result>` : '') +
    `<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${action}Response>`,
});

const fault = (code: string, message: string): Reply => ({
  status: code === 'Throttling' || code === 'AccessDenied' ? (code === 'AccessDenied' ? 403 : 400) : 500,
  body: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
});

const NO_POLICIES = '<PolicyNames/><IsTruncated>false</IsTruncated>';

class FakeIam {
  readonly calls: string[] = [];
  readonly bodies: URLSearchParams[] = [];
  private server?: Server;
  /** Per action: the replies for successive calls; the last one repeats. */
  constructor(private readonly script: Record<string, Reply[]>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const params = new URLSearchParams(raw);
        const action = params.get('Action') ?? '?';
        const seen = this.calls.filter((a) => a === action).length;
        this.calls.push(action);
        this.bodies.push(params);
        const replies = this.script[action] ?? [fault('InvalidAction', `unexpected ${action}`)];
        const reply = replies[Math.min(seen, replies.length - 1)]!;
        res.writeHead(reply.status, { 'content-type': 'text/xml' });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let opened: OpenedStore;
let fake: FakeIam | undefined;
let clients: AwsClients | undefined;

beforeAll(async () => {
  opened = await inMemoryStore();
});
afterAll(async () => {
  await opened.close();
});
afterEach(async () => {
  clients?.destroy();
  await fake?.stop();
  clients = undefined;
  fake = undefined;
});

async function granterAgainst(script: Record<string, Reply[]>, maxAttempts: number): Promise<IamGranter> {
  fake = new FakeIam(script);
  const endpoint = await fake.start();
  clients = new AwsClients({
    accounts: [{ id: '111122223333' }],
    region: 'cn-north-1',
    credentials: FAKE_CREDENTIALS,
    endpoints: { iam: endpoint },
    maxAttempts,
  });
  return new IamGranter({
    clients,
    store: opened.store,
    sessions: new FakeSessions(),
    owner: 'errors',
    clock: new ManualClock(FIXTURE_NOW),
  });
}

function request(id: string): JitRequest {
  return { ...makeRequest(), id, status: 'approved' };
}

describe('IamGranter against a scripted IAM', () => {
  test('throttling is retried by the SDK: the grant succeeds after 2 attempts', async () => {
    const granter = await granterAgainst(
      {
        ListUserPolicies: [fault('Throttling', 'Rate exceeded'), ok('ListUserPolicies', NO_POLICIES)],
        PutUserPolicy: [ok('PutUserPolicy')],
      },
      3,
    );
    const grant = await granter.grant(request('JIT-7K3Q2'), FIXTURE_NOW, FIXTURE_NOW + 3_600_000);
    expect(grant.detail).toBe('iam:PutUserPolicy UserName=alice PolicyName=jitbot-grants');
    expect(fake!.calls).toEqual(['ListUserPolicies', 'ListUserPolicies', 'PutUserPolicy']);
    const put = fake!.bodies[2]!;
    expect(put.get('UserName')).toBe('alice');
    expect(JSON.parse(put.get('PolicyDocument')!).Statement[0].Sid).toBe('JIT7K3Q2');
  });

  test('throttling that outlasts the retries fails retryably (not a refusal) and writes nothing', async () => {
    const granter = await granterAgainst({ ListUserPolicies: [fault('Throttling', 'Rate exceeded')] }, 2);
    const attempt = granter.grant(request('JIT-7K3Q3'), FIXTURE_NOW, FIXTURE_NOW + 3_600_000);
    await expect(attempt).rejects.toThrow(
      /^iam:ListUserPolicies.* on IAM user alice failed \(Throttling after 2 attempts\): Rate exceeded$/,
    );
    await expect(attempt).rejects.not.toBeInstanceOf(GrantRefused);
    expect(fake!.calls).toEqual(['ListUserPolicies', 'ListUserPolicies']);
  });

  test('access denied is a refusal that names the missing permission', async () => {
    const denied =
      'User: arn:aws-cn:sts::111122223333:assumed-role/jitbot/jitbot is not authorized to perform: iam:PutUserPolicy';
    const granter = await granterAgainst(
      { ListUserPolicies: [ok('ListUserPolicies', NO_POLICIES)], PutUserPolicy: [fault('AccessDenied', denied)] },
      3,
    );
    const attempt = granter.grant(request('JIT-7K3Q4'), FIXTURE_NOW, FIXTURE_NOW + 3_600_000);
    await expect(attempt).rejects.toBeInstanceOf(GrantRefused);
    await expect(attempt).rejects.toThrow(
      /^jitbot is not allowed to call iam:PutUserPolicy on IAM user alice in account 111122223333 \(AWS: .*\); add it to jitbot's IAM policy/,
    );
    // Not retried: access denied will not go away by itself.
    expect(fake!.calls).toEqual(['ListUserPolicies', 'PutUserPolicy']);
  });

  test('error messages never carry credentials', async () => {
    const granter = await granterAgainst({ ListUserPolicies: [fault('ServiceFailure', 'internal error')] }, 1);
    const error = await granter
      .grant(request('JIT-7K3Q5'), FIXTURE_NOW, FIXTURE_NOW + 3_600_000)
      .catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
    expect(String((error as Error).message)).not.toContain(FAKE_CREDENTIALS.accessKeyId);
  });
});
