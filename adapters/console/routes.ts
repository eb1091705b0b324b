import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import { jsonBody } from '../../src/http/server';
import { ConsoleInputError, type ConsoleInbound } from './inbound';
import { loopbackOnly } from './loopback-only';
import { CONSOLE_ASSET_PATHS, CONSOLE_PAGE_CSP, loadConsolePageAssets } from './page-assets';
import { actionBodySchema, commandBodySchema, describeIssues, stateQuerySchema } from './schemas';
import type { ChangeStream } from './sse';
import type { ConsoleWorkspace } from './workspace';

export interface ConsoleViews {
  listRequests(): Promise<unknown[]>;
  listAudit(): Promise<unknown[]>;
}

export interface ConsoleRouteContext {
  workspace: ConsoleWorkspace;
  inbound: ConsoleInbound;
  changes: ChangeStream;
  views: ConsoleViews;
  notice: string;
}

export const CONSOLE_API_PATH = '/console/api';

export function mountConsoleRoutes(app: express.Express, ctx: ConsoleRouteContext): void {
  const page = loadConsolePageAssets();
  app.get('/', loopbackOnly, (_req, res) => {
    res.status(200).type('html').set('Content-Security-Policy', CONSOLE_PAGE_CSP).send(page.html);
  });
  app.get(CONSOLE_ASSET_PATHS.css, loopbackOnly, (_req, res) => {
    res.status(200).type('css').set('Cache-Control', 'no-cache').send(page.css);
  });
  app.get(CONSOLE_ASSET_PATHS.script, loopbackOnly, (_req, res) => {
    res.status(200).type('js').set('Cache-Control', 'no-cache').send(page.script);
  });
  app.use(CONSOLE_API_PATH, loopbackOnly, createApiRouter(ctx));
}

function createApiRouter(ctx: ConsoleRouteContext): Router {
  const api = express.Router();
  api.use(jsonBody());

  api.get('/bootstrap', (_req, res) => {
    res.json({
      platform: 'console',
      notice: ctx.notice,
      users: ctx.workspace.listUsers(),
      channels: ctx.workspace.listChannels(),
    });
  });

  api.get('/state', (req, res) => {
    const query = stateQuerySchema.safeParse(req.query);
    if (!query.success)
      throw new ConsoleInputError('Query parameter "user" is required, e.g. /console/api/state?user=dana');
    const user = ctx.inbound.requireUser(query.data.user);
    res.json(ctx.workspace.viewFor(user.userId));
  });

  api.post('/command', async (req, res) => {
    const body = commandBodySchema.safeParse(requireJsonObject(req));
    if (!body.success) throw new ConsoleInputError(describeIssues(body.error));
    res.json(await ctx.inbound.command(body.data));
  });

  api.post('/action', async (req, res) => {
    const body = actionBodySchema.safeParse(requireJsonObject(req));
    if (!body.success) throw new ConsoleInputError(describeIssues(body.error));
    res.json(await ctx.inbound.action(body.data));
  });

  api.get('/events', (_req, res) => {
    ctx.changes.attach(res, ctx.workspace.seq);
  });

  api.get('/requests', async (_req, res) => {
    res.json({ items: await ctx.views.listRequests() });
  });

  api.get('/audit', async (_req, res) => {
    res.json({ items: await ctx.views.listAudit() });
  });

  api.use(inputErrors);
  return api;
}

function requireJsonObject(req: Request): unknown {
  if (req.body === undefined) throw new ConsoleInputError('Send a JSON object with Content-Type: application/json.');
  return req.body;
}

const inputErrors: ErrorRequestHandler = (err: unknown, _req: Request, res: Response, next) => {
  if (err instanceof ConsoleInputError && !res.headersSent) {
    res.status(err.status).json({ error: err.message });
    return;
  }
  next(err);
};
