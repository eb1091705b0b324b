import type { HttpLogger } from '../../src/http/server';
import { sdkLogLine as line } from '../shared/sdk-log-line';

// The Feishu SDK logs through this bridge into jitbot's logger. It logs whole request configs and responses on
// failure (the token request's config holds the app secret), so only strings and Error messages pass; objects
// are dropped. Its info and debug chatter become debug lines.

export interface FeishuSdkLogger {
  error(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  debug(...msg: unknown[]): void;
  trace(...msg: unknown[]): void;
}

export function feishuSdkLogger(logger: HttpLogger, name: string): FeishuSdkLogger {
  return {
    error: (...msg) => logger.error({ sdk: name }, line(msg)),
    warn: (...msg) => logger.warn({ sdk: name }, line(msg)),
    info: (...msg) => logger.debug({ sdk: name }, line(msg)),
    debug() {},
    trace() {},
  };
}
