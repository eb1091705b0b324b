import { LoggerLevel, WSClient, type EventDispatcher } from '@larksuiteoapi/node-sdk';
import type { HttpLogger } from '../../src/http/server';
import { feishuHttpInstance } from './http-instance';
import { feishuBaseUrl, type FeishuDomain } from './open-api';
import { feishuSdkLogger } from './sdk-logger';

// The long connection (长连接): jitbot opens a WebSocket to Feishu with the SDK's WSClient, so no inbound port or
// public URL is needed. Self-built apps only. Feishu pushes each event and card callback to one of the connected
// clients (several replicas are fine); the dispatcher's answer, e.g. a card callback's toast and card, goes back
// in the frame's acknowledgement. Frames are not signed: the connection itself was opened with the app secret.

export interface LongConnectionOptions {
  appId: string;
  appSecret: string;
  domain: FeishuDomain;
  logger: HttpLogger;
  dispatcher: EventDispatcher;
  /** How long start-up waits for the first connection before failing. */
  connectTimeoutMs?: number;
}

export interface LongConnection {
  stop(): void;
}

const APP_ID = /^cli_[0-9a-fA-F]{16}$/;
const CONNECT_TIMEOUT_MS = 30_000;

/** Resolves once connected; rejects with a clear message when Feishu refuses the app or nobody answers. */
export async function connectLongConnection(options: LongConnectionOptions): Promise<LongConnection> {
  // WSClient silently does nothing for an app id of another shape; say so instead.
  if (!APP_ID.test(options.appId)) {
    throw new Error(
      `the Feishu long connection needs a self-built app's App ID (cli_ and 16 hex digits); got "${options.appId}"`,
    );
  }
  let settle: { resolve(): void; reject(error: Error): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const client = new WSClient({
    appId: options.appId,
    appSecret: options.appSecret,
    domain: feishuBaseUrl(options.domain),
    httpInstance: feishuHttpInstance(15_000),
    logger: feishuSdkLogger(options.logger, 'feishu-ws'),
    loggerLevel: LoggerLevel.warn,
    onReady: () => settle?.resolve(),
    onError: (error) => {
      options.logger.error({ err: error.message }, 'feishu long connection failed');
      settle?.reject(
        new Error(
          `Feishu refused the long connection (${error.message}); check appId/appSecret and that the app uses long-connection subscriptions`,
        ),
      );
    },
    onReconnecting: () => options.logger.warn({}, 'feishu long connection lost; reconnecting'),
    onReconnected: () => options.logger.info({}, 'feishu long connection restored'),
  });

  const timeout = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`could not open the Feishu long connection within ${timeout / 1000}s`)),
      timeout,
    );
  });
  try {
    await client.start({ eventDispatcher: options.dispatcher });
    await Promise.race([ready, timedOut]);
  } catch (error) {
    client.close({ force: true });
    throw error;
  } finally {
    clearTimeout(timer);
  }
  options.logger.info({}, 'feishu long connection open');
  return { stop: () => client.close({ force: true }) };
}
