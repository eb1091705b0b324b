import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINIMUM_NODE, nodeVersionProblem } from '../../src/cli/node-version';

// The `jitbot` entry point refuses an older Node.js with one clear line (src/cli/main.ts).

test.each(['22.12.0', '22.23.5', '23.0.0', '24.1.0', '100.0.0'])('Node %s is supported', (version) => {
  expect(nodeVersionProblem(version)).toBeUndefined();
});

test.each(['22.11.9', '22.0.0', '20.20.2', '18.19.0', '8.17.0'])(
  'Node %s is refused with one actionable line',
  (version) => {
    const problem = nodeVersionProblem(version);
    expect(problem).toBe(
      `jitbot needs Node.js 22.12 or newer, but this is Node.js ${version}. ` +
        'Install Node 22 LTS (for example `nvm install` in the jitbot folder, which reads .nvmrc).',
    );
    expect(problem).not.toContain('\n');
  },
);

test('an unparseable version is refused rather than let through', () => {
  expect(nodeVersionProblem('')).toMatch(/needs Node\.js 22\.12 or newer/);
  expect(nodeVersionProblem('v22.12.0')).toMatch(/needs Node\.js 22\.12 or newer/);
});

test('the minimum matches package.json engines and .nvmrc', () => {
  const root = join(__dirname, '..', '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  expect(pkg.engines.node).toBe(`>=${MINIMUM_NODE.major}.${MINIMUM_NODE.minor}`);
  expect(readFileSync(join(root, '.nvmrc'), 'utf8').trim()).toBe(String(MINIMUM_NODE.major));
});
