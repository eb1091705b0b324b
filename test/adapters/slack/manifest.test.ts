import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SLACK_EVENTS_PATH } from '../../../adapters/slack/slack-adapter';

// The manifest people paste into Slack: one URL for commands and clicks, the minimal scopes, HTTP mode by default.

const manifest = parse(readFileSync(path.join(__dirname, '../../../adapters/slack/manifest.yml'), 'utf8'));
const eventsUrl = `https://YOUR-HOST${SLACK_EVENTS_PATH}`;

test('/jit and interactivity both point at the one events URL', () => {
  expect(manifest.features.slash_commands).toEqual([
    expect.objectContaining({ command: '/jit', url: eventsUrl, should_escape: false }),
  ]);
  expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: eventsUrl });
});

test('only the scopes jitbot uses', () => {
  expect(manifest.oauth_config.scopes.bot).toEqual([
    'commands',
    'chat:write',
    'im:write',
    'users:read',
    'users:read.email',
    'channels:read',
    'groups:read',
  ]);
  expect(manifest.oauth_config.scopes.user).toBeUndefined();
  expect(manifest.settings.event_subscriptions).toBeUndefined();
});

test('Socket Mode is off unless switched on', () => {
  expect(manifest.settings.socket_mode_enabled).toBe(false);
});
