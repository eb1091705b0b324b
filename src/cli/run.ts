// Runs the `jitbot` command line in this process (loaded by main.ts once the Node.js version is checked).
import { CommanderError } from 'commander';
import { ConfigError } from '../config/load';
import { StoreInUseError } from '../store/server-lock';
import { buildProgram, CliError } from './program';

const program = buildProgram({
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  now: () => Date.now(),
  onServerStarted: (stop) => {
    const shutdown = () => void stop().then(() => process.exit(0));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  },
});

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof ConfigError || error instanceof CliError || error instanceof StoreInUseError) {
    process.stderr.write(`jitbot: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`jitbot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
