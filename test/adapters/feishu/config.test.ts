import { stringify } from 'yaml';
import { ADAPTERS } from '../../../adapters';
import { checkConfigText } from '../../../src/config/load';
import { BASE_ENV, baseConfig, load, loadError } from '../../config/fixtures';

// `adapters.feishu` in jitbot.yaml, through the real config loader: the Feishu module's own schema and checks.

const APP_ID = 'cli_a1b2c3d4e5f60718';
const ENV = {
  ...BASE_ENV,
  FEISHU_APP_SECRET: 'fs-app-secret',
  FEISHU_ENCRYPT_KEY: 'fs-encrypt-key',
  FEISHU_VERIFICATION_TOKEN: 'fs-token',
};

function withFeishu(section: Record<string, unknown>) {
  const config = baseConfig();
  config.adapters.feishu = section;
  return config;
}

test('enabled with an App ID alone: the long connection, open.feishu.cn, FEISHU_APP_SECRET', () => {
  expect(load(withFeishu({ appId: APP_ID }), ENV).adapters.feishu).toEqual({
    mode: 'websocket',
    appId: APP_ID,
    appSecret: 'fs-app-secret',
    domain: 'feishu',
  });
});

test('http mode reads the Encrypt Key and the Verification Token, and cannot run without them', () => {
  expect(load(withFeishu({ appId: APP_ID, mode: 'http', domain: 'lark' }), ENV).adapters.feishu).toEqual({
    mode: 'http',
    appId: APP_ID,
    appSecret: 'fs-app-secret',
    encryptKey: 'fs-encrypt-key',
    verificationToken: 'fs-token',
    domain: 'lark',
  });
  const { FEISHU_ENCRYPT_KEY: _key, FEISHU_VERIFICATION_TOKEN: _token, ...withoutSecrets } = ENV;
  expect(
    loadError(withFeishu({ appId: APP_ID, mode: 'http' }), withoutSecrets).issues.map((i) => `${i.path}: ${i.message}`),
  ).toEqual([
    'adapters.feishu.encryptKey: environment variable FEISHU_ENCRYPT_KEY is not set',
    'adapters.feishu.verificationToken: environment variable FEISHU_VERIFICATION_TOKEN is not set',
  ]);
});

test('a base URL is accepted as the domain; anything else is refused with what is expected', () => {
  expect(load(withFeishu({ appId: APP_ID, domain: 'https://open.feishu.cn' }), ENV).adapters.feishu).toMatchObject({
    domain: 'https://open.feishu.cn',
  });
  expect(loadError(withFeishu({ appId: APP_ID, domain: 'feishu.cn' }), ENV).message).toBe(
    'jitbot.yaml: adapters.feishu.domain: expected feishu, lark or a base URL like https://open.feishu.cn',
  );
  expect(loadError(withFeishu({ appId: APP_ID, mode: 'socket' }), ENV).message).toBe(
    'jitbot.yaml: adapters.feishu.mode: expected websocket (the long connection) or http',
  );
});

test('the App ID must be one: a user id or another shape is refused; secrets only as ${ENV} references', () => {
  expect(loadError(withFeishu({ appId: 'ou_123' }), ENV).message).toBe(
    'jitbot.yaml: adapters.feishu.appId: expected the App ID (cli_…), not a user id',
  );
  expect(loadError(withFeishu({ appId: 'jitbot' }), ENV).message).toBe(
    'jitbot.yaml: adapters.feishu.appId: expected the App ID: cli_ and 16 hex digits (Credentials & Basic Info in the developer console)',
  );
  const inline = loadError(withFeishu({ appId: APP_ID, appSecret: 'plain-secret-value' }), ENV);
  expect(inline.message).toContain('adapters.feishu.appSecret: secrets must not be written in the file');
  expect(inline.message).not.toContain('plain-secret-value');
});

test('secrets written for the long connection are pointed out as unused', () => {
  const checked = checkConfigText(stringify(withFeishu({ appId: APP_ID, encryptKey: '${FEISHU_ENCRYPT_KEY}' })), {
    env: ENV,
    adapters: ADAPTERS,
  });
  expect(checked.issues).toEqual([]);
  expect(checked.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
    'adapters.feishu: encryptKey and verificationToken are only used with mode: http; the long connection needs neither',
  ]);
});

test('offline validation reads no secret', () => {
  const checked = checkConfigText(stringify(withFeishu({ appId: APP_ID, mode: 'http' })), {
    env: {},
    adapters: ADAPTERS,
    offline: true,
  });
  expect(checked.issues).toEqual([]);
  expect(checked.config?.adapters.feishu).toEqual({
    mode: 'http',
    appId: APP_ID,
    appSecret: '',
    encryptKey: '',
    verificationToken: '',
    domain: 'feishu',
  });
});
