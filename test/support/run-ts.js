// Runs a TypeScript file in a child process the way jest runs the tests (the same swc transform), so a test can
// kill -9 a real store writer or run the real CLI next to a server: node test/support/run-ts.js <file.ts> [args…]
const { transformSync } = require('@swc/core');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};

const [file, ...args] = process.argv.slice(2);
if (!file) throw new Error('usage: node test/support/run-ts.js <file.ts> [args…]');
process.argv = [process.argv[0], resolve(file), ...args];
require(resolve(file));
