import { stringify } from 'yaml';
import { ADAPTERS } from '../../../adapters';
import { checkConfigText } from '../../../src/config/load';
import { BASE_ENV, baseConfig, load, loadError } from '../../config/fixtures';

// adapters.dingtalk in jitbot.yaml, through the config loader and the DingTalk module's own section schema.

const ENV = { ...BASE_ENV, DINGTALK_CLIENT_SECRET: 'dingtalk-secret-value' };

function withDingTalk(section: Record<string, unknown>): Record<string, any> {
  const config = baseConfig();
  config.adapters = { dingtalk: { enabled: true, ...section } };
  config.roles.ops.channels = { dingtalk: 'cidOps==' };
  config.roles.security.channels = { dingtalk: 'cidSec==' };
  return config;
}

const warningsOf = (config: unknown) =>
  checkConfigText(stringify(config), { env: ENV, adapters: ADAPTERS }).warnings.map((w) => `${w.path}: ${w.message}`);

test('the client id alone, with the secret from DINGTALK_CLIENT_SECRET: Stream mode, no template', () => {
  const loaded = load(withDingTalk({ clientId: 'dingabc', corpId: 'dingcorp' }), ENV);
  expect(loaded.adapters.dingtalk).toEqual({
    clientId: 'dingabc',
    clientSecret: 'dingtalk-secret-value',
    corpId: 'dingcorp',
    mode: 'stream',
  });
});

test('every key', () => {
  const section = {
    clientId: 'dingabc',
    clientSecret: '${MY_DT_SECRET}',
    robotCode: 'dingrobot',
    corpId: 'dingcorp',
    robotName: 'access-bot',
    cardTemplateId: 'abc.schema',
    mode: 'stream',
    gatewayUrl: 'http://127.0.0.1:9000',
    apiUrl: 'http://127.0.0.1:9000',
    oapiUrl: 'http://127.0.0.1:9001',
  };
  expect(load(withDingTalk(section), { ...ENV, MY_DT_SECRET: 'other' }).adapters.dingtalk).toEqual({
    ...section,
    clientSecret: 'other',
  });
});

test('a missing client id, an unknown mode and an inline secret are each reported, without the secret', () => {
  const error = loadError(withDingTalk({ clientSecret: 'inline-secret-value', mode: 'websocket' }), ENV);
  const lines = error.message.split('\n');
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^jitbot\.yaml: adapters\.dingtalk\.clientId: /),
      expect.stringMatching(/^jitbot\.yaml: adapters\.dingtalk\.mode: expected stream or http/),
      expect.stringMatching(/^jitbot\.yaml: adapters\.dingtalk\.clientSecret: /),
    ]),
  );
  expect(error.message).not.toContain('inline-secret-value');
});

test('an unset secret variable is named, not guessed', () => {
  const error = loadError(withDingTalk({ clientId: 'dingabc' }), BASE_ENV);
  expect(error.message).toContain('DINGTALK_CLIENT_SECRET');
});

test('warnings: no corpId; a card template in HTTP mode, where clicks cannot arrive', () => {
  expect(warningsOf(withDingTalk({ clientId: 'dingabc', mode: 'http', cardTemplateId: 'abc.schema' }))).toEqual([
    expect.stringMatching(/^adapters\.dingtalk\.corpId: without corpId/),
    expect.stringMatching(/^adapters\.dingtalk\.cardTemplateId: card clicks arrive only over Stream/),
  ]);
  expect(warningsOf(withDingTalk({ clientId: 'dingabc', corpId: 'dingcorp', cardTemplateId: 'abc.schema' }))).toEqual(
    [],
  );
});
