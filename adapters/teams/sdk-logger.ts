import type { HttpLogger } from '../../src/http/server';
import { sdkLogLine } from '../shared/sdk-log-line';

// The Teams SDK logs through its own ILogger (a console logger by default). This one sends what it says to
// jitbot's log instead, as strings only: the SDK's arguments can be request configs carrying the bot's token.

type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The shape of the SDK's ILogger (@microsoft/teams.common, which jitbot does not depend on directly). */
export interface SdkLogger {
  debug(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
  trace(...msg: unknown[]): void;
  log(level: LogLevel, ...msg: unknown[]): void;
  child(name: string): SdkLogger;
}

export function teamsSdkLogger(logger: HttpLogger, name = 'teams-sdk'): SdkLogger {
  const write = (level: LogLevel, msg: unknown[]) => {
    const text = sdkLogLine(msg);
    if (level === 'error') logger.error({ sdk: name }, text);
    else if (level === 'warn') logger.warn({ sdk: name }, text);
    else logger.debug({ sdk: name }, text);
  };
  return {
    debug: (...msg) => write('debug', msg),
    info: (...msg) => write('info', msg),
    warn: (...msg) => write('warn', msg),
    error: (...msg) => write('error', msg),
    trace: (...msg) => write('trace', msg),
    log: (level, ...msg) => write(level, msg),
    child: (child) => teamsSdkLogger(logger, `${name}/${child}`),
  };
}
