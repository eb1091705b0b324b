import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A local stand-in for the parts of AWS Systems Manager jitbot uses, speaking the real wire protocol (awsJson1_1:
// POST /, X-Amz-Target: AmazonSSM.<Op>, JSON bodies, errors as {"__type","message"} with HTTP 400), so the real
// SDK client talks to it through an endpoint override. Requests are signed but the signature is not checked; the
// region comes from the signature's credential scope, so one fake serves every region.

export type SessionStatus = 'Connected' | 'Connecting' | 'Disconnected' | 'Terminated' | 'Terminating' | 'Failed';
const ENDED: readonly SessionStatus[] = ['Terminated', 'Failed'];

export interface FakeSession {
  sessionId: string;
  target: string;
  owner: string;
  status: SessionStatus;
  /** Epoch ms. */
  startedAt: number;
  region?: string;
  account?: string;
}

export interface FakeNode {
  /** `i-…` (an EC2 instance SSM knows) or `mi-…` (hybrid). */
  id: string;
  pingStatus: 'Online' | 'ConnectionLost' | 'Inactive';
  tags: Record<string, string>;
  /** Default: ManagedInstance for `mi-`, EC2Instance otherwise. */
  resourceType?: 'ManagedInstance' | 'EC2Instance';
  /** The activation's default instance name (hybrid nodes). */
  name?: string;
  computerName?: string;
  /** Absent: every region. */
  region?: string;
  /** Absent: every account. */
  account?: string;
}

export interface FakeCall {
  operation: string;
  input: Record<string, unknown>;
  region: string | undefined;
  accessKeyId: string | undefined;
}

export interface FakeSsmOptions {
  /** Largest page the fake returns, whatever MaxResults asks (default 200). */
  maxPageSize?: number;
  /** Answer InvalidInstanceId when an InstanceIds filter names a node the fake does not know (default: leave it out). */
  strictInstanceIds?: boolean;
  /** Which account a request is in, from its access key id (default: unknown, so every seeded record matches). */
  accountOf?: (accessKeyId: string) => string | undefined;
}

class FakeError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Context {
  region: string | undefined;
  account: string | undefined;
}

export class FakeSsm {
  readonly calls: FakeCall[] = [];
  private readonly sessions: FakeSession[] = [];
  private readonly nodes: FakeNode[] = [];
  private readonly terminatedIds: string[] = [];
  private readonly failures: { operation: string | undefined; type: string; message: string; remaining: number }[] = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private sessionCounter = 0;

  private constructor(private readonly options: FakeSsmOptions) {}

  /** Starts a fake on 127.0.0.1 with a free port. */
  static async start(options: FakeSsmOptions = {}): Promise<FakeSsm> {
    const fake = new FakeSsm(options);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  /** Seeds a session; returns its id (generated from the owner's last ARN segment, like SSM, when not given). */
  addSession(session: Partial<FakeSession> & Pick<FakeSession, 'target' | 'owner'>): string {
    const name = session.owner.split('/').pop() ?? 'session';
    const sessionId =
      session.sessionId ??
      `${name}-${(++this.sessionCounter).toString(16).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
    this.sessions.push({ status: 'Connected', startedAt: Date.now(), ...session, sessionId });
    return sessionId;
  }

  addNode(node: FakeNode): void {
    this.nodes.push(node);
  }

  /** Session ids ended by TerminateSession, in call order. */
  terminated(): string[] {
    return [...this.terminatedIds];
  }

  session(sessionId: string): FakeSession | undefined {
    return this.sessions.find((s) => s.sessionId === sessionId);
  }

  /** How many requests of this operation arrived (including failed ones). */
  count(operation: string): number {
    return this.calls.filter((call) => call.operation === operation).length;
  }

  /** The next `times` requests (of `operation`, or of any operation) are answered with this error. */
  failNext(times: number, type: string, options: { operation?: string; message?: string } = {}): void {
    this.failures.push({
      operation: options.operation,
      type,
      message: options.message ?? `${type} (fake)`,
      remaining: times,
    });
  }

  /** The next `times` requests are throttled, as AWS does when its rate limit is hit. */
  throttle(times: number, operation?: string): void {
    this.failNext(times, 'ThrottlingException', { operation, message: 'Rate exceeded' });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : target;
    const { region, accessKeyId } = credentialScope(String(req.headers.authorization ?? ''));
    let input: Record<string, unknown> = {};
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      input = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }
    this.calls.push({ operation, input, region, accessKeyId });
    const context: Context = { region, account: accessKeyId ? this.options.accountOf?.(accessKeyId) : undefined };
    try {
      if (
        req.method !== 'POST' ||
        !String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')
      ) {
        throw new FakeError('SerializationException', 'expected POST with application/x-amz-json-1.1');
      }
      this.injectedFailure(operation);
      reply(res, 200, this.dispatch(operation, input, context));
    } catch (error) {
      if (error instanceof FakeError) return reply(res, 400, { __type: error.type, message: error.message });
      reply(res, 500, { __type: 'InternalServerError', message: String(error) });
    }
  }

  private injectedFailure(operation: string): void {
    const failure = this.failures.find(
      (f) => f.remaining > 0 && (f.operation === undefined || f.operation === operation),
    );
    if (!failure) return;
    failure.remaining--;
    throw new FakeError(failure.type, failure.message);
  }

  private dispatch(operation: string, input: Record<string, unknown>, context: Context): unknown {
    switch (operation) {
      case 'DescribeSessions':
        return this.describeSessions(input, context);
      case 'TerminateSession':
        return this.terminateSession(input);
      case 'DescribeInstanceInformation':
        return this.describeInstanceInformation(input, context);
      case 'ListTagsForResource':
        return this.listTagsForResource(input, context);
      default:
        throw new FakeError('UnknownOperationException', `operation ${operation} is not supported by the fake`);
    }
  }

  private describeSessions(input: Record<string, unknown>, context: Context) {
    const state = input.State;
    if (state !== 'Active' && state !== 'History')
      throw new FakeError('ValidationException', 'State must be Active or History');
    const filters = (input.Filters ?? []) as { key?: unknown; value?: unknown }[];
    if (!Array.isArray(filters) || filters.length > 6)
      throw new FakeError('ValidationException', 'Filters: 1-6 {key, value}');
    const matchers = filters.map(({ key, value }) => {
      if (typeof value !== 'string' || value.length < 1 || value.length > 400) {
        throw new FakeError('ValidationException', 'filter value must be 1-400 characters');
      }
      switch (key) {
        case 'Target':
          return (s: FakeSession) => s.target === value;
        case 'Owner':
          return (s: FakeSession) => s.owner === value;
        case 'Status':
          return (s: FakeSession) => s.status === value;
        case 'SessionId':
          return (s: FakeSession) => s.sessionId === value;
        default:
          throw new FakeError('InvalidFilterKey', `filter key ${String(key)} is not supported by the fake`);
      }
    });
    const sessions = this.sessions.filter(
      (s) =>
        inScope(s, context) &&
        ENDED.includes(s.status) === (state === 'History') &&
        matchers.every((match) => match(s)),
    );
    const page = this.page(sessions, input, 1, 200);
    return {
      Sessions: page.items.map((s) => ({
        SessionId: s.sessionId,
        Target: s.target,
        Status: s.status,
        StartDate: s.startedAt / 1000,
        DocumentName: 'SSM-SessionManagerRunShell',
        Owner: s.owner,
      })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  /** Like SSM, always succeeds: terminating a session that is gone or already ended is not an error. */
  private terminateSession(input: Record<string, unknown>) {
    const sessionId = input.SessionId;
    if (typeof sessionId !== 'string' || sessionId.length < 1 || sessionId.length > 96) {
      throw new FakeError('ValidationException', 'SessionId must be 1-96 characters');
    }
    const session = this.session(sessionId);
    if (session && !ENDED.includes(session.status)) {
      session.status = 'Terminated';
      this.terminatedIds.push(sessionId);
    }
    return { SessionId: sessionId };
  }

  private describeInstanceInformation(input: Record<string, unknown>, context: Context) {
    if (input.InstanceInformationFilterList !== undefined) {
      throw new FakeError('InvalidFilterKey', 'the fake supports only Filters, not InstanceInformationFilterList');
    }
    const filters = (input.Filters ?? []) as { Key?: unknown; Values?: unknown }[];
    const tagFilters = filters.filter((f) => String(f.Key).startsWith('tag:'));
    if (tagFilters.length > 0 && tagFilters.length < filters.length) {
      throw new FakeError('InvalidFilterKey', 'tag filters cannot be combined with other filter types');
    }
    const visible = this.nodes.filter((node) => inScope(node, context));
    const matchers = filters.map(({ Key, Values }) => {
      if (!Array.isArray(Values) || Values.length < 1 || Values.length > 100) {
        throw new FakeError('InvalidInstanceInformationFilterValue', `filter ${String(Key)}: 1-100 values`);
      }
      const values = Values as string[];
      if (Key === 'InstanceIds') {
        const unknown = values.filter((id) => !visible.some((node) => node.id === id));
        if (this.options.strictInstanceIds && unknown.length > 0) {
          throw new FakeError(
            'InvalidInstanceId',
            `Instances [${unknown.join(', ')}] not in a valid state for account`,
          );
        }
        return (node: FakeNode) => values.includes(node.id);
      }
      if (Key === 'PingStatus') return (node: FakeNode) => values.includes(node.pingStatus);
      if (Key === 'ResourceType') return (node: FakeNode) => values.includes(resourceTypeOf(node));
      if (typeof Key === 'string' && Key.startsWith('tag:')) {
        const tag = Key.slice('tag:'.length);
        return (node: FakeNode) => node.tags[tag] !== undefined && values.includes(node.tags[tag]);
      }
      throw new FakeError('InvalidFilterKey', `filter key ${String(Key)} is not supported by the fake`);
    });
    const page = this.page(
      visible.filter((node) => matchers.every((match) => match(node))),
      input,
      5,
      50,
    );
    return {
      InstanceInformationList: page.items.map((node) => ({
        InstanceId: node.id,
        PingStatus: node.pingStatus,
        ResourceType: resourceTypeOf(node),
        LastPingDateTime: Date.now() / 1000,
        ...(node.name !== undefined ? { Name: node.name } : {}),
        ...(node.computerName !== undefined ? { ComputerName: node.computerName } : {}),
      })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  private listTagsForResource(input: Record<string, unknown>, context: Context) {
    if (input.ResourceType !== 'ManagedInstance') {
      throw new FakeError('InvalidResourceType', 'the fake lists tags of ManagedInstance resources only');
    }
    const node = this.nodes.find(
      (n) => n.id === input.ResourceId && resourceTypeOf(n) === 'ManagedInstance' && inScope(n, context),
    );
    if (!node) throw new FakeError('InvalidResourceId', `resource ${String(input.ResourceId)} not found`);
    return { TagList: Object.entries(node.tags).map(([Key, Value]) => ({ Key, Value })) };
  }

  /** Offset-based pages; the token is opaque to clients. */
  private page<T>(items: T[], input: Record<string, unknown>, minResults: number, maxResults: number) {
    const asked = input.MaxResults;
    if (asked !== undefined && (typeof asked !== 'number' || asked < minResults || asked > maxResults)) {
      throw new FakeError('ValidationException', `MaxResults must be ${minResults}-${maxResults}`);
    }
    const size = Math.min(typeof asked === 'number' ? asked : 10, this.options.maxPageSize ?? 200);
    let start = 0;
    if (input.NextToken !== undefined) {
      const decoded = Number(
        Buffer.from(String(input.NextToken), 'base64url')
          .toString('utf8')
          .replace(/^offset:/, ''),
      );
      if (!Number.isInteger(decoded) || decoded < 0)
        throw new FakeError('InvalidNextToken', 'The specified token is invalid');
      start = decoded;
    }
    const end = start + size;
    return {
      items: items.slice(start, end),
      nextToken: end < items.length ? Buffer.from(`offset:${end}`).toString('base64url') : undefined,
    };
  }
}

function resourceTypeOf(node: FakeNode): string {
  return node.resourceType ?? (node.id.startsWith('mi-') ? 'ManagedInstance' : 'EC2Instance');
}

function inScope(record: { region?: string; account?: string }, context: Context): boolean {
  if (record.region !== undefined && context.region !== undefined && record.region !== context.region) return false;
  if (record.account !== undefined && context.account !== undefined && record.account !== context.account) return false;
  return true;
}

/** `Authorization: AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/ssm/aws4_request, …` */
function credentialScope(authorization: string): { region?: string; accessKeyId?: string } {
  const match = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/ssm\/aws4_request/.exec(authorization);
  return match ? { accessKeyId: match[1], region: match[2] } : {};
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomBytes(16).toString('hex'),
  });
  res.end(text);
}
