import { spawn, type ChildProcess } from 'node:child_process';

// A jitbot server in a child process (test/crash/children/jitbot-slack.ts), to kill -9 and start again.

export interface JitbotProcess {
  url: string;
  child: ChildProcess;
  /** When the process was spawned (epoch ms). */
  spawnedAt: number;
  /** Resolves with the signal (or exit code) the process ended with. */
  exited: Promise<NodeJS.Signals | number | null>;
  stderr(): string;
}

/**
 * Starts the server on `dataDir`, talking to the fake Slack at `slackApiUrl`; resolves once it listens.
 * `poisonNode`: the process kills itself (SIGKILL) when a command asks for this node, as a native crash would.
 */
export async function startJitbotProcess(
  dataDir: string,
  slackApiUrl: string,
  clockOffsetMs = 0,
  poisonNode?: string,
): Promise<JitbotProcess> {
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    ['test/support/run-ts.js', 'test/crash/children/jitbot-slack.ts', dataDir, slackApiUrl, String(clockOffsetMs)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JITBOT_CRASH_POISON_NODE: poisonNode ?? '' } },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /^ready (\S+)$/m.exec(stdout);
      if (ready) resolve(ready[1]!);
    });
    void exited.then((how) => reject(new Error(`jitbot exited (${how}) before it was ready:\n${stderr}`)));
  });
  return { url, child, spawnedAt, exited, stderr: () => stderr };
}

export async function kill9(jitbot: JitbotProcess): Promise<void> {
  jitbot.child.kill('SIGKILL');
  const how = await jitbot.exited;
  if (how !== 'SIGKILL') throw new Error(`expected the process to die of SIGKILL, it ended with ${how}`);
}

export async function stopGracefully(jitbot: JitbotProcess): Promise<void> {
  jitbot.child.kill('SIGTERM');
  const how = await jitbot.exited;
  if (how !== 0) throw new Error(`jitbot did not stop cleanly (${how}):\n${jitbot.stderr()}`);
}
