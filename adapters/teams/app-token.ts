import { createHash, createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';
import type { TeamsCredential } from './settings';

// The token the bot presents to the Bot Connector: an OAuth 2.0 client-credentials grant against the bot's own
// tenant, with the client secret or a certificate-signed client assertion. Written here rather than taken from
// the Teams SDK, whose token manager goes through MSAL: MSAL accepts only https authorities, so it could never
// be pointed at the local token endpoint the tests run, and the SDK offers no certificate credential.

const REFRESH_MARGIN_MS = 5 * 60_000;
const ASSERTION_LIFETIME_SECONDS = 600;
const REQUEST_TIMEOUT_MS = 10_000;
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AppTokenOptions {
  appId: string;
  credential: TeamsCredential;
  tokenUrl: string;
  scope: string;
  now?: () => number;
}

/** The token endpoint refused the credential (wrong secret, expired certificate, unknown app): retrying will not help. */
export class TokenRefused extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
  ) {
    super(
      `the Entra token endpoint refused the bot's credential (${code}); check appId, tenantId and appPassword/certificate`,
    );
    this.name = 'TokenRefused';
  }
}

export class AppTokenSource {
  private cached: { token: string; until: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AppTokenOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A valid token, fetched again five minutes before it expires; concurrent callers share one request. */
  async token(): Promise<string> {
    if (this.cached && this.cached.until > this.now()) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.options.appId,
      scope: this.options.scope,
      ...(await this.proof()),
    });
    const response = await fetch(this.options.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
    };
    if (!response.ok) {
      const code = typeof body.error === 'string' ? body.error.slice(0, 100) : `HTTP ${response.status}`;
      if (response.status >= 400 && response.status < 500 && response.status !== 429)
        throw new TokenRefused(code, response.status);
      throw new Error(`the Entra token endpoint answered ${code}`);
    }
    if (typeof body.access_token !== 'string' || !body.access_token)
      throw new Error('the Entra token endpoint answered without an access_token');
    const lifetimeMs = Number(body.expires_in) * 1000;
    const until = this.now() + (Number.isFinite(lifetimeMs) && lifetimeMs > 0 ? lifetimeMs : 0) - REFRESH_MARGIN_MS;
    this.cached = { token: body.access_token, until };
    return body.access_token;
  }

  private async proof(): Promise<Record<string, string>> {
    const credential = this.options.credential;
    if (credential.kind === 'secret') return { client_secret: credential.secret };
    return { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await this.assertion(credential) };
  }

  /** A certificate credential: a short-lived JWT signed with the certificate's key, naming the certificate by its SHA-256 thumbprint. */
  private async assertion(credential: Extract<TeamsCredential, { kind: 'certificate' }>): Promise<string> {
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(credential.certificatePem).raw)
      .digest('base64url');
    const issuedAt = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprint })
      .setIssuer(this.options.appId)
      .setSubject(this.options.appId)
      .setAudience(this.options.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .sign(createPrivateKey(credential.privateKeyPem));
  }
}
