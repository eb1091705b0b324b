import { TeamsAdapter, TEAMS_MESSAGES_PATH } from '../../../adapters/teams/teams-adapter';
import type { TeamsSettings } from '../../../adapters/teams/settings';
import type { HttpLogger } from '../../../src/http/server';
import type { AdapterRecords } from '../../../src/ports/adapter-module';
import { startHttpServer, type RunningHttpServer } from '../../../src/http/server';
import type { InboundEvent, InboundHandler, Reply } from '../../../src/ports/chat';
import { FAKE_APP_ID, FAKE_APP_SECRET, FAKE_TENANT_ID, FakeTeams } from '../../support/fake-teams';

// One Teams adapter on jitbot's HTTP server, pointed at a local FakeTeams for every endpoint it uses.

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

export interface TeamsRig {
  teams: FakeTeams;
  adapter: TeamsAdapter;
  server: RunningHttpServer;
  /** Where the Bot Connector posts activities. */
  endpoint: string;
  events: InboundEvent[];
  logs: LogLine[];
  /** What the recording handler answers (default: an info reply). */
  answer: (event: InboundEvent) => Promise<Reply>;
  close(): Promise<void>;
}

export function fakeSettings(teams: FakeTeams, overrides: Partial<TeamsSettings> = {}): TeamsSettings {
  return {
    appId: FAKE_APP_ID,
    tenantId: FAKE_TENANT_ID,
    credential: { kind: 'secret', secret: FAKE_APP_SECRET },
    cloud: 'public',
    openIdMetadataUrl: teams.openIdMetadataUrl,
    tokenUrl: teams.tokenUrl,
    serviceUrl: teams.serviceUrl,
    ...overrides,
  };
}

export async function startTeamsRig(
  options: { settings?: Partial<TeamsSettings>; handler?: InboundHandler; records?: AdapterRecords } = {},
): Promise<TeamsRig> {
  const teams = new FakeTeams();
  await teams.start();
  const logs: LogLine[] = [];
  const log = (level: LogLine['level']) => (fields: object, msg?: string) =>
    void logs.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
  const logger: HttpLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const adapter = new TeamsAdapter(fakeSettings(teams, options.settings), {
    logger,
    ...(options.records && { records: options.records }),
  });
  const server = await startHttpServer({ host: '127.0.0.1', port: 0, mounts: [adapter] });
  const rig: TeamsRig = {
    teams,
    adapter,
    server,
    endpoint: `${server.url}${TEAMS_MESSAGES_PATH}`,
    events: [],
    logs,
    answer: async () => ({ kind: 'info', text: 'noted' }),
    close: async () => {
      await adapter.stop();
      await server.close();
      await teams.stop();
    },
  };
  await adapter.start(
    options.handler ??
      (async (event) => {
        rig.events.push(event);
        return rig.answer(event);
      }),
    { locale: 'en' },
  );
  return rig;
}
