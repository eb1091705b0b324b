import {
  startHttpServer,
  jsonBody,
  type HttpLogger,
  type HttpMount,
  type RunningHttpServer,
} from '../../../src/http/server';

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function recordingLogger(): HttpLogger & { lines: unknown[] } {
  const lines: unknown[] = [];
  const record = (obj: object, msg: string) => void lines.push({ ...obj, msg });
  return { lines, debug: record, info: record, warn: record, error: record };
}

const echoMount: HttpMount = {
  mount(app) {
    app.post('/echo', jsonBody(), (req, res) => {
      res.json({ received: req.body });
    });
    app.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    app.get('/async-boom', async () => {
      throw new Error('async failure');
    });
  },
};

describe('startHttpServer', () => {
  test('port 0 picks a free port; /healthz answers', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [] });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const response = await fetch(server.url + '/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('unknown routes are a JSON 404', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [echoMount] });
    const response = await fetch(server.url + '/nope?token=x');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not found' });
  });

  test('mounts add routes; JSON bodies over 64 kb are refused with 413', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [echoMount] });
    const post = (body: string) =>
      fetch(server!.url + '/echo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const small = await post(JSON.stringify({ a: 1 }));
    expect(await small.json()).toEqual({ received: { a: 1 } });
    const large = await post(JSON.stringify({ a: 'x'.repeat(70 * 1024) }));
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ error: 'request body is too large' });
  });

  test('malformed JSON is a 400 that neither returns nor logs the body', async () => {
    const logger = recordingLogger();
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [echoMount], logger });
    const response = await fetch(server.url + '/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"token": "xoxb-secret-value"',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain('xoxb');
    expect(JSON.stringify(logger.lines)).not.toContain('xoxb');
  });

  test('a throwing route is a generic 500; the error is logged, request bodies and queries are not', async () => {
    const logger = recordingLogger();
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [echoMount], logger });
    for (const path of ['/boom?secret=s3cr3t', '/async-boom']) {
      const response = await fetch(server.url + path);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: 'internal error' });
    }
    await fetch(server.url + '/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"password":"p4ss"}',
    });
    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('async failure');
    expect(logged).toContain('"path":"/boom"');
    expect(logged).not.toContain('s3cr3t');
    expect(logged).not.toContain('p4ss');
  });

  test('a port in use is reported as a failure to start', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [] });
    await expect(startHttpServer({ host: '127.0.0.1', port: server.port, mounts: [] })).rejects.toThrow(/EADDRINUSE/);
  });

  test('close() is idempotent and frees the port', async () => {
    const first = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [] });
    await first.close();
    await first.close();
    server = await startHttpServer({ host: '127.0.0.1', port: first.port, mounts: [] });
    expect(server.port).toBe(first.port);
  });
});
