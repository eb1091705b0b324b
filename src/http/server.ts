import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { errorHandler, type HttpLogger, notFound, requestLog, securityHeaders, silentLogger } from './middleware';

export { jsonBody, JSON_BODY_LIMIT, type HttpLogger } from './middleware';

/** Something that adds routes to the one HTTP server: the console page, a platform's webhook endpoint, … */
export interface HttpMount {
  mount(app: express.Express): void;
}

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  mounts: HttpMount[];
  logger?: HttpLogger;
}

export interface RunningHttpServer {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  /** Stops accepting connections and ends open ones (including event streams). Safe to call twice. */
  close(): Promise<void>;
}

export function createHttpApp(mounts: readonly HttpMount[], logger: HttpLogger = silentLogger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.use(requestLog(logger));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  for (const mount of mounts) mount.mount(app);
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const logger = options.logger ?? silentLogger;
  const server = http.createServer(createHttpApp(options.mounts, logger));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(options.host)}:${port}`;
  logger.info({ url }, 'http server listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Event streams never finish on their own; without this, close() would wait for every open browser tab.
      server.closeAllConnections();
    });
    return closing;
  };

  return { url, port, close };
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
