import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import vm from 'node:vm';
import { CONSOLE_ASSET_PATHS, CONSOLE_PAGE_CSP, loadConsolePageAssets } from '../../../adapters/console/page-assets';
import { startConsole, type ConsoleHarness } from './harness';

// The console page: static markup, style and a browser script (adapters/console/page), served from jitbot's own
// origin. The script is type-checked with DOM types (npm run typecheck) and built by the test setup.

const SOURCE_DIR = path.resolve(__dirname, '../../../adapters/console/page');
const source = (file: string) => readFileSync(path.join(SOURCE_DIR, file), 'utf8');
const assets = loadConsolePageAssets();

describe('console page sources', () => {
  test('the built script is a valid classic script compiled from the current client.ts', () => {
    expect(() => new vm.Script(assets.script)).not.toThrow();
    expect(assets.script).not.toMatch(/^\s*(import|export)\s/m);
    expect(assets.script).toContain("const API = '/console/api';");
    expect(assets.html).toBe(source('index.html'));
    expect(assets.css).toBe(source('console.css'));
  });

  test('the script never turns data into HTML', () => {
    const client = source('client.ts');
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
      'DOMParser',
    ]) {
      expect(client).not.toContain(sink);
    }
    // Text goes through textContent / text nodes, e.g. message text and card reason.
    expect(client).toContain("else if (key === 'text') node.textContent = String(value);");
    expect(client).toContain("el('div', { class: 'message-text', text: message.text || '' })");
    expect(client).toContain("el('p', { class: 'reason-text', text: card.reason })");
  });

  test('the markup is static and loads only its own style and script', () => {
    expect(assets.html).not.toMatch(/\$\{/);
    expect(assets.html).not.toMatch(/<style[\s>]/);
    expect(assets.html.match(/<script[^>]*>/g)).toEqual([`<script src="${CONSOLE_ASSET_PATHS.script}">`]);
    expect(assets.html.match(/<link[^>]+stylesheet[^>]*>/g)).toEqual([
      `<link rel="stylesheet" href="${CONSOLE_ASSET_PATHS.css}">`,
    ]);
    expect(assets.html).not.toMatch(/https?:\/\//);
  });

  test('shows the local-only banner and the chat layout', () => {
    expect(assets.html).toContain('Local console — binds to 127.0.0.1 only, no authentication');
    for (const id of [
      'user-select',
      'channel-list',
      'dm-list',
      'messages',
      'composer-input',
      'thread-panel',
      'requests-view',
      'audit-view',
    ]) {
      expect(assets.html).toContain(`id="${id}"`);
    }
    expect(assets.script).toContain("new EventSource(API + '/events')");
    expect(assets.script).toContain('window.confirm(');
  });

  test('the CSP allows only same-origin script and style, nothing inline', () => {
    expect(CONSOLE_PAGE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_PAGE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_PAGE_CSP).toContain("style-src 'self'");
    expect(CONSOLE_PAGE_CSP).toContain("connect-src 'self'");
    expect(CONSOLE_PAGE_CSP).not.toContain('unsafe-inline');
  });

  test('a missing build is reported with what to run', () => {
    expect(() => loadConsolePageAssets(['/nonexistent/page'])).toThrow(
      'the console page is not built (looked in /nonexistent/page); run npm run build',
    );
  });
});

describe('console page over HTTP', () => {
  let console_: ConsoleHarness;
  beforeAll(async () => {
    console_ = await startConsole();
  });
  afterAll(async () => {
    await console_.close();
  });

  test.each([
    ['/', /^text\/html/, () => assets.html],
    [CONSOLE_ASSET_PATHS.css, /^text\/css/, () => assets.css],
    [CONSOLE_ASSET_PATHS.script, /^(application|text)\/javascript/, () => assets.script],
  ])('GET %s serves the file with its type', async (url, type, body) => {
    const response = await fetch(console_.server.url + url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(type);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe(body());
  });

  test.each([CONSOLE_ASSET_PATHS.css, CONSOLE_ASSET_PATHS.script])(
    '%s answers only on loopback names',
    async (asset) => {
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = http.request(
            { host: '127.0.0.1', port: console_.server.port, path: asset, headers: { Host: host } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await status('attacker.example')).toBe(403);
      expect(await status(`localhost:${console_.server.port}`)).toBe(200);
    },
  );
});
