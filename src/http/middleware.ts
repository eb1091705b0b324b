import express, { type ErrorRequestHandler, type RequestHandler } from 'express';

/** The subset of a pino logger the HTTP layer uses. */
export interface HttpLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: HttpLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const JSON_BODY_LIMIT = '64kb';

/**
 * JSON body parser with the server's size limit. The server does not parse bodies globally, because webhook
 * mounts (Slack, Feishu, …) must verify signatures over the raw bytes; each mount opts in on its own routes.
 */
export function jsonBody(): RequestHandler {
  return express.json({ limit: JSON_BODY_LIMIT, strict: true, type: 'application/json' });
}

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
  });
  next();
};

/** Logs method, path (never the query string or body: they can carry secrets), status and duration. */
export function requestLog(logger: HttpLogger): RequestHandler {
  return (req, res, next) => {
    const startedAt = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number((process.hrtime.bigint() - startedAt) / 1_000_000n);
      logger.debug({ method: req.method, path: pathOnly(req.originalUrl), status: res.statusCode, ms }, 'http request');
    });
    next();
  };
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'not found' });
};

// body-parser errors carry a `type`; their messages can quote the body, so only fixed texts are sent or logged.
const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  'entity.too.large': { status: 413, message: 'request body is too large' },
  'entity.parse.failed': { status: 400, message: 'request body is not valid JSON' },
  'encoding.unsupported': { status: 415, message: 'unsupported content encoding' },
  'charset.unsupported': { status: 415, message: 'unsupported charset' },
  'request.aborted': { status: 400, message: 'request aborted' },
};

export function errorHandler(logger: HttpLogger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const path = pathOnly(req.originalUrl);
    const type = typeof (err as { type?: unknown })?.type === 'string' ? (err as { type: string }).type : undefined;
    const known = type !== undefined ? CLIENT_ERRORS[type] : undefined;
    if (known) {
      logger.debug({ method: req.method, path, type }, 'rejected request');
      res.status(known.status).json({ error: known.message });
      return;
    }
    const status = clientErrorStatus(err);
    if (status !== undefined) {
      logger.debug({ method: req.method, path, status }, 'rejected request');
      res.status(status).json({ error: 'bad request' });
      return;
    }
    logger.error({ method: req.method, path, err: describeError(err) }, 'request failed');
    res.status(500).json({ error: 'internal error' });
  };
}

function clientErrorStatus(err: unknown): number | undefined {
  const status =
    (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function describeError(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error)
    return { name: err.name, message: err.message, ...(err.stack !== undefined && { stack: err.stack }) };
  return { name: 'NonError', message: String(err) };
}

function pathOnly(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}
