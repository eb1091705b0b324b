import { CHINA, PUBLIC, type CloudEnvironment } from '@microsoft/teams.api';

// What the Teams adapter is configured with, and the endpoints of the cloud it talks to. Each cloud has its own
// sign-in, token issuer, OpenID metadata and Bot Connector; Teams operated by 21Vianet ("china") shares none of
// them with the public cloud. The Teams SDK's cloud presets are the source of those endpoints.

export type TeamsCloud = 'public' | 'china';

export type TeamsCredential =
  /** The bot's client secret (an `${ENV}` reference in jitbot.yaml). */
  | { kind: 'secret'; secret: string }
  /** A certificate registered on the app: its private key and the certificate itself (PEM), for a signed client assertion. */
  | { kind: 'certificate'; privateKeyPem: string; certificatePem: string };

export interface TeamsSettings {
  /** The bot's Entra application (client) id; inbound tokens must be issued for it. */
  appId: string;
  /** The Entra tenant the bot is registered in (single-tenant). Activities from other tenants are ignored. */
  tenantId: string;
  credential: TeamsCredential;
  cloud: TeamsCloud;
  /** Overrides (tests, proxies): the OpenID metadata inbound keys come from, the token endpoint, the Bot Connector. */
  openIdMetadataUrl?: string;
  tokenUrl?: string;
  serviceUrl?: string;
}

export interface TeamsEndpoints {
  /** `iss` of every token the Bot Connector sends. */
  issuer: string;
  openIdMetadataUrl: string;
  /** OAuth 2.0 client-credentials endpoint of the bot's tenant. */
  tokenUrl: string;
  /** Scope of the token the bot presents to the Bot Connector. */
  scope: string;
  /** The Bot Connector used until an inbound activity names the tenant's own (regional) service URL. */
  serviceUrl: string;
}

const CLOUDS: Record<TeamsCloud, { sdk: CloudEnvironment; serviceUrl: string }> = {
  public: { sdk: PUBLIC, serviceUrl: 'https://smba.trafficmanager.net/teams' },
  // Not 21Vianet's: the config warns when `serviceUrl` is not set for it, and the service URL of the first verified
  // activity replaces it (kept across restarts, see service-url.ts).
  china: { sdk: CHINA, serviceUrl: 'https://smba.trafficmanager.net/teams' },
};

export function teamsEndpoints(settings: TeamsSettings): TeamsEndpoints {
  const cloud = CLOUDS[settings.cloud];
  return {
    issuer: cloud.sdk.tokenIssuer,
    openIdMetadataUrl: settings.openIdMetadataUrl ?? cloud.sdk.openIdMetadataUrl,
    tokenUrl:
      settings.tokenUrl ?? `${cloud.sdk.loginEndpoint}/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/token`,
    scope: cloud.sdk.botScope,
    serviceUrl: stripTrailingSlash(settings.serviceUrl ?? cloud.serviceUrl),
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Problems with the settings, each an actionable sentence (empty when usable). An empty app id or a missing
 * credential is a configuration error: it never means "run without checking who calls".
 */
export function teamsSettingsProblems(settings: TeamsSettings): string[] {
  const problems: string[] = [];
  if (!settings.appId.trim()) problems.push("appId is empty: set it to the bot's Entra application (client) id");
  else if (!GUID.test(settings.appId.trim()))
    problems.push('appId must be the Entra application (client) id, a GUID like 00000000-0000-0000-0000-000000000000');
  if (!settings.tenantId.trim())
    problems.push('tenantId is empty: set it to the Entra tenant id the bot is registered in (single-tenant)');
  else if (!GUID.test(settings.tenantId.trim()))
    problems.push('tenantId must be the Entra tenant id, a GUID (the bot is single-tenant; "common" is not accepted)');
  const credential = settings.credential;
  if (credential.kind === 'secret' && !credential.secret) {
    problems.push(
      "appPassword is empty: set it to an ${ENV} reference holding the bot's client secret, or configure a certificate",
    );
  }
  if (credential.kind === 'certificate') {
    if (!credential.privateKeyPem.includes('PRIVATE KEY'))
      problems.push('certificate.privateKey must hold a PEM private key');
    if (!credential.certificatePem.includes('BEGIN CERTIFICATE'))
      problems.push('certificate.certificate must hold the PEM certificate registered on the app');
  }
  return problems;
}

export function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
