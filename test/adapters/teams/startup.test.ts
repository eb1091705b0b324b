import pino from 'pino';
import { ADAPTERS } from '../../../adapters';
import { TeamsAdapter } from '../../../adapters/teams/teams-adapter';
import { startJitbot } from '../../../src/app';
import { parseConfigText } from '../../../src/config/load';
import {
  FAKE_APP_ID,
  FAKE_APP_SECRET,
  FAKE_TENANT_ID,
  FakeTeams,
  messageActivity,
  type FakeMember,
} from '../../support/fake-teams';

// jitbot started from a jitbot.yaml that enables Teams: the adapter module builds the adapter from its section,
// the server mounts /teams/messages, and a signed activity gets its answer in the person's 1:1 chat.

const dana: FakeMember = {
  id: '29:dana',
  aadObjectId: 'da0a0000-0000-0000-0000-000000000001',
  name: 'Dana',
  email: 'dana@example.com',
};

function yaml(teams: FakeTeams): string {
  return `
locale: en
server: { host: 127.0.0.1, port: 0 }
embedded: { inMemory: true }
roles:
  ops: { members: ["teams:${dana.aadObjectId}"], channels: { teams: "19:ops@thread.tacv2" } }
policies:
  - { kind: manual, name: default, targets: { all: true }, levels: [{ roles: [ops], required: 1 }] }
inventory:
  nodes: [{ id: i-0123456789abcdef0, name: web-1, account: "111122223333", region: cn-north-1, tags: {} }]
adapters:
  teams:
    appId: ${FAKE_APP_ID}
    tenantId: ${FAKE_TENANT_ID}
    appPassword: \${TEAMS_APP_PASSWORD}
    openIdMetadataUrl: ${teams.openIdMetadataUrl}
    tokenUrl: ${teams.tokenUrl}
    serviceUrl: ${teams.serviceUrl}
`;
}

test('a jitbot.yaml enabling Teams serves /teams/messages and answers in the 1:1 chat', async () => {
  const teams = new FakeTeams();
  await teams.start();
  teams.addMember(dana);
  const config = parseConfigText(yaml(teams), 'jitbot.yaml', {
    env: { TEAMS_APP_PASSWORD: FAKE_APP_SECRET },
    adapters: ADAPTERS,
  });
  const jitbot = await startJitbot({
    config,
    logger: pino({ level: 'silent' }),
    port: 0,
    sweepIntervalMs: 0,
    recoveryIntervalMs: 0,
  });
  try {
    const response = await teams.deliver(
      `${jitbot.url}/teams/messages`,
      messageActivity({ member: dana, serviceUrl: teams.serviceUrl }, 'help'),
    );
    expect(response.status).toBe(200);
    const adapter = jitbot.adapters.get('teams');
    expect(adapter).toBeInstanceOf(TeamsAdapter);
    await (adapter as TeamsAdapter).idle();
    const chat = teams.personalChats.get(dana.id)!;
    expect(teams.postedIn(chat)).toHaveLength(1);
    expect(
      (
        await teams.deliver(
          `${jitbot.url}/teams/messages`,
          messageActivity({ member: dana, serviceUrl: teams.serviceUrl }, 'help'),
          null,
        )
      ).status,
    ).toBe(401);
  } finally {
    await jitbot.stop();
    await teams.stop();
  }
});

test('a wrong password stops jitbot at start-up, naming the cause and not the secret', async () => {
  const teams = new FakeTeams();
  await teams.start();
  const config = parseConfigText(yaml(teams), 'jitbot.yaml', {
    env: { TEAMS_APP_PASSWORD: 'not-the-secret' },
    adapters: ADAPTERS,
  });
  try {
    const started = startJitbot({
      config,
      logger: pino({ level: 'silent' }),
      port: 0,
      sweepIntervalMs: 0,
      recoveryIntervalMs: 0,
    });
    await expect(started).rejects.toThrow(/refused the bot's credential \(invalid_client\)/);
    await started.catch((error: Error) => expect(error.message).not.toContain('not-the-secret'));
  } finally {
    await teams.stop();
  }
});
