import { stringify } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { checkConfigText } from '../../src/config/load';
import { baseConfig, BASE_ENV, load, loadError } from './fixtures';

// Warnings: a config that works but probably does not do what was meant. They are printed, and do not reject
// the config.

const warningsOf = (config: unknown) =>
  checkConfigText(stringify(config), { env: BASE_ENV, adapters: ADAPTERS }).warnings.map(
    (w) => `${w.path}: ${w.message}`,
  );

describe('a level that only the requester could close', () => {
  test('its only approver may request under the policy: a warning naming the policy; the config still loads', () => {
    const config = baseConfig();
    config.policies[0].levels = [{ roles: ['ops'] }, { users: ['Dana@Example.cn'] }];
    expect(warningsOf(config)).toEqual([
      'policies[0].levels[1]: policy "prod", level 2: a request from dana@example.cn can never be approved here: ' +
        '1 approval needed and no other approver (nobody approves their own request), so it waits until it times out; ' +
        'add another approver',
    ]);
    expect(() => load(config)).not.toThrow();
  });

  test('counts role members, and identities matched by email domain or chat id', () => {
    const config = baseConfig();
    config.identities.push(
      {
        match: { emailDomain: 'example.cn' },
        principal: { kind: 'iam-role', arn: 'arn:aws-cn:iam::111122223333:role/eng', sessionName: '{email}' },
      },
      {
        match: { platform: 'slack', userId: 'U0BOB' },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/bob' },
      },
    );
    config.policies[0].levels = [{ roles: ['security'] }, { roles: ['ops'], required: 2 }];
    expect(warningsOf(config)).toEqual([
      expect.stringMatching(
        /^policies\[0\]\.levels\[0\]: policy "prod", level 1: a request from carol@example\.cn can never/,
      ),
      expect.stringMatching(
        /^policies\[0\]\.levels\[1\]: policy "prod", level 2: a request from alice@example\.cn .* 2 approvals needed and only 1 other approver /,
      ),
    ]);
  });

  test('no warning when another approver remains, or when the approver cannot request under the policy', () => {
    const config = baseConfig();
    config.policies[0].levels = [{ users: ['dana@example.cn', 'erin@example.cn'] }];
    expect(warningsOf(config)).toEqual([]);
    config.policies[0].levels = [{ users: ['dana@example.cn'] }];
    config.policies[0].requesters = { groups: ['sre'] };
    config.identities.push({
      match: { email: 'sam@example.cn' },
      principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/sam' },
      groups: ['sre'],
    });
    expect(warningsOf(config)).toEqual([]);
  });

  test('warnings are listed after the problems when a config is rejected', () => {
    const config = baseConfig();
    config.locale = 'fr';
    config.policies[0].levels = [{ users: ['dana@example.cn'] }];
    const error = loadError(config);
    expect(error.issues).toHaveLength(1);
    expect(error.warnings).toHaveLength(1);
    expect(error.message.split('\n')).toEqual([
      'jitbot.yaml: locale: expected one of en, zh-CN, ja',
      expect.stringMatching(/^jitbot\.yaml: policies\[0\]\.levels\[0\]: warning: policy "prod", level 1: /),
    ]);
  });
});
