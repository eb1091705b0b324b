import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// IAM that can be made to throttle: a local proxy in front of moto_server. Calls whose Action is throttled get IAM's
// own Throttling error (awsQuery XML, HTTP 400); all others are forwarded to moto unchanged, so the IAM state the
// tests read back (GetUserPolicy) is real.

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const THROTTLED_BODY =
  `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>` +
  '<RequestId>throttled-1</RequestId></ErrorResponse>';

export class ThrottlingIam {
  /** Every IAM action called, in order, and whether it was throttled. */
  readonly calls: { action: string; throttled: boolean }[] = [];
  private readonly throttled = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(motoUrl: string): Promise<ThrottlingIam> {
    let proxy: ThrottlingIam | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? '?';
        const throttle = proxy!.throttled.has(action);
        proxy!.calls.push({ action, throttled: throttle });
        if (throttle) {
          res.writeHead(400, { 'content-type': 'text/xml' });
          res.end(THROTTLED_BODY);
          return;
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).flatMap(([name, value]) =>
            typeof value === 'string' && name !== 'host' ? [[name, value]] : [],
          ),
        );
        fetch(motoUrl + (req.url ?? '/'), { method: req.method, headers, body })
          .then(async (upstream) => {
            res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' });
            res.end(Buffer.from(await upstream.arrayBuffer()));
          })
          .catch((error: unknown) => {
            res.writeHead(502);
            res.end(String(error));
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new ThrottlingIam(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** From now on these actions are throttled (replaces the previous set; none = IAM is healthy). */
  throttle(...actions: string[]): void {
    this.throttled.clear();
    for (const action of actions) this.throttled.add(action);
  }

  throttledCalls(action: string): number {
    return this.calls.filter((c) => c.action === action && c.throttled).length;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
