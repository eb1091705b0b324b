import { z } from 'zod';
import type { AdapterNormaliseContext } from '../../src/ports/adapter-module';

// `adapters.console` in jitbot.yaml: no keys of its own. The console has no login, so it is refused unless
// jitbot's server listens on loopback only.

export type ConsoleSettings = Record<string, never>;

export const consoleSectionSchema = () => z.strictObject({});

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

export function normaliseConsoleSection(_section: unknown, context: AdapterNormaliseContext): ConsoleSettings {
  const { host } = context.server;
  if (!LOOPBACK_HOSTS.includes(host)) {
    context.problem(
      undefined,
      `the local console has no authentication, so it only binds to loopback; server.host is "${host}": ` +
        'set server.host to 127.0.0.1, or enable another adapter and set adapters.console.enabled: false',
    );
  }
  return {};
}
