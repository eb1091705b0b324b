import { FakeSlack } from '../test/support/fake-slack';
import { failChild, serveParent } from './child-ipc';

// The Slack Web API and response_url endpoints jitbot talks to after an ack, in a process of their own so that
// their work is neither jitbot's nor the load generator's. The test suite's fake, speaking Slack's wire format.

async function main(): Promise<void> {
  const fake = await FakeSlack.start({
    users: [
      { id: 'U0DANA', name: 'dana', realName: 'Dana' },
      { id: 'U0ALICE', name: 'alice', realName: 'Alice' },
    ],
    channels: [
      { id: 'C0REQUESTS', name: 'requests', isMember: true },
      { id: 'C0APPROVALS', name: 'ops-approvals', isMember: true },
    ],
  });
  serveParent(
    { url: fake.url, apiUrl: fake.apiUrl },
    {
      /** How many response_url posts arrived, and how many of them recorded an approval. */
      responses: () => ({
        total: fake.responses.length,
        approvals: fake.responses.filter((r) => String(r.body.text ?? '').startsWith('Recorded your approval')).length,
      }),
    },
    () => fake.close(),
  );
}

main().catch(failChild);
