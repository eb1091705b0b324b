import { parse, stringify } from 'yaml';
import { ADAPTERS } from '../../../adapters';
import { DEMO_CONFIG_YAML } from '../../../adapters/console/demo';
import { TeamsAdapter, TEAMS_MESSAGES_PATH } from '../../../adapters/teams/teams-adapter';
import { parseConfigText } from '../../../src/config/load';
import { startCoreFlow, type CoreFlow } from '../../support/core-flow';
import { cardActionActivity, FakeTeams, messageActivity, type FakeMember } from '../../support/fake-teams';
import { fakeSettings } from './teams-setup';

// Entra object ids are GUIDs, which ignore case. However jitbot.yaml writes one and however Teams sends it, the
// same person is recognised: as an approver (roles.*.members), and as a requester (identities).

const OPS = '19:ops@thread.tacv2';
const REQUESTS = '19:requests@thread.tacv2';
/** Teams sends Dana's object id in upper case; jitbot.yaml writes it in lower case. */
const dana: FakeMember = {
  id: '29:dana',
  aadObjectId: 'DA0A0000-0000-0000-0000-0000000000AB',
  name: 'Dana',
  email: 'dana@example.com',
};
/** jitbot.yaml writes Alice's object id in upper case; Teams sends it in lower case. */
const alice: FakeMember = {
  id: '29:alice',
  aadObjectId: 'a11ce000-0000-0000-0000-0000000000cd',
  name: 'Alice',
  email: 'alice@example.com',
};

let teams: FakeTeams;
let flow: CoreFlow;

beforeAll(async () => {
  teams = new FakeTeams();
  await teams.start();
  teams.addMember(dana);
  teams.addMember(alice);
  const file = parse(DEMO_CONFIG_YAML);
  file.roles['ops-approvers'].channels.teams = OPS;
  file.roles['ops-approvers'].members.push(`teams:${alice.aadObjectId.toUpperCase()}`);
  file.identities.push({
    match: { platform: 'teams', userId: dana.aadObjectId.toLowerCase() },
    principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
    groups: ['developers'],
  });
  const config = parseConfigText(stringify(file), 'jitbot.yaml', { env: {}, adapters: ADAPTERS });
  flow = await startCoreFlow({ config, adapter: new TeamsAdapter(fakeSettings(teams)), owner: 'teams-case' });
});

afterAll(async () => {
  await flow.stop();
  await teams.stop();
});

test('teams:<GUID> in upper case in the config lets that person approve; an upper-case id from Teams is recognised', async () => {
  const endpoint = `${flow.url}${TEAMS_MESSAGES_PATH}`;
  await teams.deliver(
    endpoint,
    messageActivity({ member: dana, serviceUrl: teams.serviceUrl, conversationId: REQUESTS }, 'web-2 rotate logs'),
  );
  await flow.settle();
  const card = teams.postedIn(OPS).find((activity) => activity.attachments);
  expect(card).toBeDefined();
  const requestId = /JIT-[0-9A-Z]{5}/.exec(JSON.stringify(card!.attachments))![0];

  const answer = await teams.deliver(
    endpoint,
    cardActionActivity(
      { member: alice, serviceUrl: teams.serviceUrl, conversationId: OPS },
      { verb: 'approve', requestId, cardActivityId: card!.id },
    ),
  );
  await flow.settle();
  expect(answer.body.type).toBe('application/vnd.microsoft.card.adaptive');
  const said = answer.body.value.body.find((element: { id?: string }) => element.id === 'jitbot-answer');
  expect(said.text).toContain(`Recorded your approval of ${requestId}`);
  expect(JSON.stringify(teams.activity(card!.id)!.attachments)).toContain('Alice approved (Level 1)');
});
