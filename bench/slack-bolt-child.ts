import { App, LogLevel } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { failChild, serveParent } from './child-ipc';

// The baseline for Slack's ack: a bare Bolt app (its HTTPReceiver, signature check and listener middleware) that
// acknowledges every button click and does nothing else.

async function main(): Promise<void> {
  const app = new App({
    signingSecret: process.env.BENCH_SLACK_SIGNING_SECRET!,
    token: process.env.BENCH_SLACK_BOT_TOKEN!,
    tokenVerificationEnabled: false,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: process.env.BENCH_SLACK_API_URL! },
  });
  let acked = 0;
  app.action(/.*/, async ({ ack }) => {
    await ack();
    acked++;
  });
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as { address(): AddressInfo | string | null };
  const address = server.address() as AddressInfo;
  serveParent({ url: `http://127.0.0.1:${address.port}` }, { acked: () => acked }, async () => {
    await app.stop();
  });
}

main().catch(failChild);
