import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The console's page is three static files: its markup (page/index.html), its style (page/console.css) and its
// script (page/client.ts, compiled for the browser by scripts/build-console-page.js). They are served as they
// are, from jitbot's own origin; no server data is ever put into them (the page fetches it as JSON).

export interface ConsolePageAssets {
  html: string;
  css: string;
  script: string;
}

/** Where the assets are served; the page's markup names these paths. */
export const CONSOLE_ASSET_PATHS = { css: '/console/assets/console.css', script: '/console/assets/client.js' } as const;

/** Only the page's own script and style may run; it may talk only to its own origin. */
export const CONSOLE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Built page directories, in order: next to this module when it runs from dist, else the project's
 * dist/adapters/console/page when it runs from sources (tests, which build it in their global setup).
 */
const BUILT_PAGE_DIRS = [
  path.join(__dirname, 'page'),
  path.resolve(__dirname, '..', '..', 'dist', 'adapters', 'console', 'page'),
];

export function loadConsolePageAssets(dirs: readonly string[] = BUILT_PAGE_DIRS): ConsolePageAssets {
  const dir = dirs.find((candidate) => existsSync(path.join(candidate, 'client.js')));
  if (!dir) throw new Error(`the console page is not built (looked in ${dirs.join(', ')}); run npm run build`);
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return { html: read('index.html'), css: read('console.css'), script: read('client.js') };
}
