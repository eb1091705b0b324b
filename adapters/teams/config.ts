import { z } from 'zod';
import type { AdapterNormaliseContext, AdapterSchemaKit } from '../../src/ports/adapter-module';
import type { TeamsCredential, TeamsSettings } from './settings';

// `adapters.teams` in jitbot.yaml:
//   teams:
//     enabled: true
//     appId: 00000000-…            # the bot's Entra application (client) id
//     tenantId: 00000000-…         # the tenant it is registered in (single-tenant)
//     appPassword: ${TEAMS_APP_PASSWORD}   # or: certificate: { privateKey: ${…}, certificate: ${…} }
//     cloud: public                # or china (Teams operated by 21Vianet)
// An empty app id or no credential is a configuration error: it never switches the token check off.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = (what: string) =>
  z
    .string()
    .trim()
    .regex(GUID, { error: `expected ${what}, a GUID like 00000000-0000-0000-0000-000000000000` });
const url = (example: string) => z.url({ protocol: /^https?$/, error: `expected a URL like ${example}` });

export const teamsSectionSchema = (kit: AdapterSchemaKit) =>
  z.strictObject({
    appId: guid("the bot's Entra application (client) id"),
    tenantId: guid('the Entra tenant id the bot is registered in (single-tenant; "common" is not accepted)'),
    appPassword: kit.secret('TEAMS_APP_PASSWORD').optional(),
    certificate: z
      .strictObject({
        privateKey: kit.secret('TEAMS_CERTIFICATE_KEY'),
        certificate: kit.secret('TEAMS_CERTIFICATE'),
      })
      .optional(),
    cloud: z
      .enum(['public', 'china'], { error: 'expected public, or china for Teams operated by 21Vianet' })
      .default('public'),
    openIdMetadataUrl: url('https://login.botframework.com/v1/.well-known/openidconfiguration').optional(),
    tokenUrl: url('https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token').optional(),
    serviceUrl: url('https://smba.trafficmanager.net/teams/').optional(),
  });

export type TeamsSection = z.output<ReturnType<typeof teamsSectionSchema>>;

export function normaliseTeamsSection(section: TeamsSection, context: AdapterNormaliseContext): TeamsSettings {
  if (section.appPassword !== undefined && section.certificate !== undefined) {
    context.problem('certificate', 'give either appPassword or certificate, not both');
  }
  let credential: TeamsCredential;
  if (section.certificate) {
    const privateKeyPem =
      context.secret('certificate.privateKey', section.certificate.privateKey, { required: true }) ?? '';
    const certificatePem =
      context.secret('certificate.certificate', section.certificate.certificate, { required: true }) ?? '';
    if (privateKeyPem && !privateKeyPem.includes('PRIVATE KEY'))
      context.problem(
        'certificate.privateKey',
        'expected the PEM private key of the certificate registered on the app',
      );
    if (certificatePem && !certificatePem.includes('BEGIN CERTIFICATE'))
      context.problem('certificate.certificate', 'expected the PEM certificate registered on the app');
    credential = { kind: 'certificate', privateKeyPem, certificatePem };
  } else {
    // No credential written: the conventional variable, which must then be set.
    const secret =
      context.secret('appPassword', section.appPassword ?? '${TEAMS_APP_PASSWORD}', { required: true }) ?? '';
    credential = { kind: 'secret', secret };
  }
  if (section.cloud === 'china' && section.serviceUrl === undefined) {
    context.warning(
      'serviceUrl',
      "cloud: china without serviceUrl: 21Vianet's Bot Connector has no known default, so until a first verified " +
        'activity names it (someone writes to the bot, clicks a card or adds it), cards, updates and DMs go to the ' +
        'public default and fail. jitbot keeps the address it learns across restarts in its store; set serviceUrl to ' +
        'the serviceUrl your activities carry (logged as "teams service URL learned") to send before that',
    );
  }
  return {
    appId: section.appId.toLowerCase(),
    tenantId: section.tenantId.toLowerCase(),
    credential,
    cloud: section.cloud,
    ...(section.openIdMetadataUrl !== undefined && { openIdMetadataUrl: section.openIdMetadataUrl }),
    ...(section.tokenUrl !== undefined && { tokenUrl: section.tokenUrl }),
    ...(section.serviceUrl !== undefined && { serviceUrl: section.serviceUrl }),
  };
}
