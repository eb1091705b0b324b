import { LogLevel, type Logger } from '@slack/web-api';
import type { HttpLogger } from '../../src/http/server';
import { sdkLogLine as line } from '../shared/sdk-log-line';

/**
 * Slack's SDKs log through this bridge into jitbot's logger. Their debug output (request bodies, socket frames
 * with what people typed) is dropped, and so is any object they pass (sdkLogLine); their info lines (e.g. "rate limited, will retry") become debug lines.
 */
export function slackSdkLogger(logger: HttpLogger, name: string): Logger {
  return {
    debug() {},
    info: (...msg: unknown[]) => logger.debug({ sdk: name }, line(msg)),
    warn: (...msg: unknown[]) => logger.warn({ sdk: name }, line(msg)),
    error: (...msg: unknown[]) => logger.error({ sdk: name }, line(msg)),
    setLevel() {},
    getLevel: () => LogLevel.INFO,
    setName() {},
  };
}
