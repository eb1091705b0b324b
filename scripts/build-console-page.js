// Builds the local console's page into dist/adapters/console/page: the browser script compiled from
// adapters/console/page/client.ts (its own tsconfig: DOM types, no Node), and the page's HTML and CSS copied as
// they are. `npm run build` runs it, and so does the test setup, so tests always serve the current sources.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCE = path.join(ROOT, 'adapters', 'console', 'page');
const TARGET = path.join(ROOT, 'dist', 'adapters', 'console', 'page');
const COPIED = ['index.html', 'console.css'];

function buildConsolePage() {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(SOURCE, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  for (const file of COPIED) fs.copyFileSync(path.join(SOURCE, file), path.join(TARGET, file));
  return TARGET;
}

module.exports = { buildConsolePage };

if (require.main === module) buildConsolePage();
