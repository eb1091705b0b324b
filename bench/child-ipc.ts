import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// Benchmark helpers that run in their own process (so their CPU and memory are their own) talk to bench/run.ts
// over Node's IPC channel: the child announces itself with `ready`, then answers numbered calls.

interface CallMessage {
  call: number;
  type: string;
  payload: unknown;
}

type ReplyMessage = { ready: unknown } | { call: number; result?: unknown; error?: string };

export interface BenchChild {
  /** What the child sent with `ready`. */
  ready: unknown;
  call<T = unknown>(type: string, payload?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Starts `dist/bench/<file>.js` and waits for its `ready`. */
export async function startChild(
  file: string,
  options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<BenchChild> {
  const child: ChildProcess = fork(join(__dirname, `${file}.js`), [], {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let calls = 0;
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      const error = new Error(`benchmark child ${file} exited (${signal ?? code})`);
      for (const pending of waiting.values()) pending.reject(error);
      reject(error);
    });
  });
  exited.catch(() => undefined);

  const ready = await Promise.race([
    new Promise<unknown>((resolve) => {
      child.on('message', (message: ReplyMessage) => {
        if ('ready' in message) {
          resolve(message.ready);
          return;
        }
        const pending = waiting.get(message.call);
        waiting.delete(message.call);
        if (message.error !== undefined) pending?.reject(new Error(`${file}: ${message.error}`));
        else pending?.resolve(message.result);
      });
    }),
    exited,
  ]);

  return {
    ready,
    call: <T>(type: string, payload?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const call = ++calls;
        waiting.set(call, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ call, type, payload } satisfies CallMessage);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: each handler names the payload type its parent call sends.
type CallHandler = (payload: any) => unknown;

/** In a child: announce `ready`, then answer calls with `handlers[type](payload)`. */
export function serveParent(ready: unknown, handlers: Record<string, CallHandler>, onStop?: () => Promise<void>): void {
  process.on('message', (message: CallMessage) => {
    const handler = handlers[message.type];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler for ${message.type}`);
        return handler(message.payload);
      })
      .then(
        (result) => process.send!({ call: message.call, result }),
        (error: unknown) =>
          process.send!({
            call: message.call,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  process.once('SIGTERM', () => {
    void (onStop ?? (async () => undefined))().finally(() => process.exit(0));
  });
  process.send!({ ready });
}

/** A child's start-up failure, printed before it exits. */
export function failChild(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
