import { defineAdapterModule } from '../../src/ports/adapter-module';
import { normaliseTeamsSection, teamsSectionSchema } from './config';
import { TeamsAdapter } from './teams-adapter';

/** Microsoft Teams (public cloud, or operated by 21Vianet): `POST /teams/messages` (see docs/teams.md). */
export const teamsModule = defineAdapterModule({
  name: 'teams',
  schema: teamsSectionSchema,
  normalise: normaliseTeamsSection,
  create: (settings, deps) => new TeamsAdapter(settings, { logger: deps.logger, now: () => deps.clock.now() }),
});
