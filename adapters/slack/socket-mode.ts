import { App, SocketModeReceiver } from '@slack/bolt';
import type { HttpLogger } from '../../src/http/server';
import type { AckThenAnswerOutcome } from '../shared/inbound-dispatcher';
import type { SlackDelivery } from './inbound';
import { slackSdkLogger } from './sdk-logger';

// Socket Mode: jitbot opens a WebSocket to Slack (apps.connections.open with the app-level token) and receives
// the same payloads as over HTTP, without any inbound port. Bolt's SocketModeReceiver keeps the connection up and
// acknowledges envelopes; one Bolt middleware hands every delivery to the transport-neutral inbound side.

export interface SocketModeOptions {
  appToken: string;
  /** Web API base, used for apps.connections.open (tests point it at a fake that returns a local ws:// URL). */
  apiUrl: string;
  logger: HttpLogger;
  receive(delivery: SlackDelivery): Promise<AckThenAnswerOutcome>;
}

export interface SocketModeConnection {
  stop(): Promise<void>;
}

/** Resolves once Slack has said hello on the socket. */
export async function connectSocketMode(options: SocketModeOptions): Promise<SocketModeConnection> {
  const sdkLogger = slackSdkLogger(options.logger, 'slack-socket-mode');
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger: sdkLogger,
    installerOptions: { clientOptions: { slackApiUrl: options.apiUrl } },
  });
  const app = new App({
    receiver,
    // The bot token is used by jitbot's own WebClient; Bolt needs no authorisation to hand deliveries over.
    authorize: async () => ({}),
    ignoreSelf: false,
    convoStore: false,
    logger: sdkLogger,
  });
  app.use(async (args) => {
    // Each kind of delivery types its ack differently; all of them send the given payload, if any, as the ack.
    const ack =
      'ack' in args && typeof args.ack === 'function' ? (args.ack as (response?: unknown) => Promise<void>) : undefined;
    // The socket is authenticated by the app-level token: there is no signature to verify.
    const outcome = await options.receive({
      read: () => ({ ok: true, encoding: 'socket', body: args.body }),
      ...(args.context.retryNum !== undefined && { retryNum: args.context.retryNum }),
    });
    // Bolt acknowledges Events API envelopes itself before middleware runs; `ack` is absent for those.
    if (outcome.outcome === 'invalid')
      options.logger.warn(
        { status: outcome.status, error: outcome.error },
        'unreadable slack socket mode delivery acknowledged and dropped',
      );
    await ack?.(outcome.outcome === 'handshake' ? outcome.response : undefined);
  });
  app.error(async (error) => {
    options.logger.error({ err: error.message }, 'slack socket mode delivery failed');
  });
  await app.start();
  return {
    stop: async () => {
      await receiver.client.disconnect();
    },
  };
}
