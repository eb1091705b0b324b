import { defineAdapterModule } from '../../src/ports/adapter-module';
import { normaliseTeamsSection, teamsSectionSchema } from './config';

/** Microsoft Teams (public cloud, or operated by 21Vianet): `POST /teams/messages` (see docs/teams.md). */
export const teamsModule = defineAdapterModule({
  name: 'teams',
  schema: teamsSectionSchema,
  normalise: normaliseTeamsSection,
  // Entra object ids are GUIDs, which ignore case: `teams:<id>` in the config matches however it is written.
  canonicalUserId: (userId) => userId.toLowerCase(),
  create: (settings, deps) => {
    // Loaded here, not at the top: the platform's SDK costs tens of MB, paid only when the adapter is enabled.
    const { TeamsAdapter } = require('./teams-adapter') as typeof import('./teams-adapter');
    return new TeamsAdapter(settings, {
      logger: deps.logger,
      now: () => deps.clock.now(),
      ...(deps.records && { records: deps.records }),
    });
  },
});
