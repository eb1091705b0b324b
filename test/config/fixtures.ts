import { stringify } from 'yaml';
import { ADAPTERS } from '../../adapters';
import { ConfigError, parseConfigText } from '../../src/config/load';
import type { Env } from '../../src/config/env-refs';

/** A small valid config as plain data; tests copy it, break one thing and load it as YAML. */
export function baseConfig(): Record<string, any> {
  return {
    aws: {
      regions: ['cn-north-1'],
      accounts: [{ id: '111122223333', name: 'prod' }],
    },
    dynamodb: { table: 'jitbot' },
    identities: [
      {
        match: { email: 'dana@example.cn' },
        principal: { kind: 'iam-user', arn: 'arn:aws-cn:iam::111122223333:user/dana' },
        groups: ['developers'],
      },
    ],
    roles: {
      ops: { members: ['alice@example.cn', 'slack:U0BOB'], channels: { slack: 'C0OPS' } },
      security: { members: ['carol@example.cn'], channels: { slack: 'C0SEC' } },
    },
    admins: ['carol@example.cn'],
    policies: [
      {
        kind: 'manual',
        name: 'prod',
        targets: { tags: { Env: 'prod' } },
        minDuration: '1h',
        maxDuration: '8h',
        levels: [{ roles: ['ops'], required: 1 }],
      },
    ],
    adapters: {
      slack: { enabled: true, botToken: '${SLACK_BOT_TOKEN}', signingSecret: '${SLACK_SIGNING_SECRET}' },
    },
  };
}

export const BASE_ENV: Env = { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'signing-secret-value' };

export const SOURCE = 'jitbot.yaml';

export function load(config: unknown, env: Env = BASE_ENV) {
  return parseConfigText(typeof config === 'string' ? config : stringify(config), SOURCE, { env, adapters: ADAPTERS });
}

/** Loads a config that must be invalid and returns its ConfigError. */
export function loadError(config: unknown, env: Env = BASE_ENV): ConfigError {
  try {
    load(config, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}
