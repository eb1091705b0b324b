import { FakeSlack } from '../test/support/fake-slack';
import { failChild, serveParent } from './child-ipc';
import { REQUESTERS, slackRequester } from './service-fixture';

// The Slack Web API and response_url endpoints jitbot talks to after an ack, in a process of their own so that
// their work is neither jitbot's nor the load generator's. The test suite's fake, speaking Slack's wire format.

async function main(): Promise<void> {
  const fake = await FakeSlack.start({
    users: [
      ...Array.from({ length: REQUESTERS }, (_, i) => ({
        id: slackRequester(i),
        name: `dev${i}`,
        realName: `Dev ${i}`,
      })),
      { id: 'U0ALICE', name: 'alice', realName: 'Alice' },
    ],
    channels: [
      { id: 'C0REQUESTS', name: 'requests', isMember: true },
      { id: 'C0APPROVALS', name: 'ops-approvals', isMember: true },
    ],
    keepAliveTimeoutMs: 10 * 60_000,
  });
  serveParent(
    { url: fake.url, apiUrl: fake.apiUrl },
    {
      /** How many response_url posts arrived, and how many of them recorded an approval. */
      responses: () => {
        const texts = fake.responses.map((r) => String(r.body.text ?? ''));
        const approvals = texts.filter((text) => text.startsWith('Recorded your approval'));
        return {
          total: texts.length,
          approvals: approvals.length,
          others: texts.filter((text) => !approvals.includes(text)).slice(-3),
        };
      },
    },
    () => fake.close(),
  );
}

main().catch(failChild);
