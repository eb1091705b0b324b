#!/usr/bin/env node
// The `jitbot` entry point. Imports are hoisted, so this file imports only the dependency-free version check
// and loads the real command line with require() once the Node.js version is known to be supported.
import { nodeVersionProblem } from './node-version';

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
require('./run');
