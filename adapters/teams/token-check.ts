import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { stripTrailingSlash } from './settings';

// Checks that an activity really comes from the Bot Connector, before anything in it is read:
// - RS256 only, signed by a key from the cloud's OpenID metadata (its `jwks_uri`);
// - that key is endorsed for the activity's channel (`msteams`): the Teams SDK skips this check, botbuilder made it;
// - the cloud's issuer, the bot's app id as audience, not expired (5 minutes of clock skew);
// - the `serviceurl` claim equals the activity's serviceUrl, so a token cannot be replayed towards another connector.
// Only the Bot Connector's tokens are accepted: the SDK's second path for Entra-issued tokens (Agent 365) is not
// offered, since any app in the tenant can obtain an Entra token for the bot's app id.

export const TEAMS_CHANNEL_ID = 'msteams';
const ALGORITHM = 'RS256';
const CLOCK_TOLERANCE_SECONDS = 300;
/** Keys are re-read at least daily, and on an unknown key id at most this often. */
const KEYS_MAX_AGE_MS = 24 * 60 * 60_000;
const UNKNOWN_KID_REFRESH_MS = 5 * 60_000;
/** After a failed read, the keys held are used and the read is tried again after this long (not on every request). */
const RETRY_AFTER_FAILURE_MS = 60_000;
const FETCH_TIMEOUT_MS = 10_000;

export interface TokenCheckOptions {
  appId: string;
  issuer: string;
  openIdMetadataUrl: string;
  /** Epoch milliseconds (tests move the clock). */
  now?: () => number;
  /** Told when the keys could not be re-read and the ones held are kept. */
  logger?: { warn(fields: object, message: string): void };
}

/** The parts of an activity the check reads. */
export interface ActivityClaims {
  serviceUrl?: unknown;
  channelId?: unknown;
}

export type TokenCheckResult = { ok: true } | { ok: false; reason: string };

interface EndorsedKey extends JWK {
  kid?: string;
  endorsements?: unknown;
}

export class BotConnectorTokenCheck {
  private keys: EndorsedKey[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenCheckOptions) {
    if (!options.appId) throw new Error("the Teams token check needs the bot's app id");
    this.now = options.now ?? Date.now;
  }

  async check(authorization: string | undefined, activity: ActivityClaims): Promise<TokenCheckResult> {
    const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '')?.[1];
    if (!token) return refuse('no bearer token');
    if (typeof activity.serviceUrl !== 'string' || !activity.serviceUrl)
      return refuse('the activity names no serviceUrl');
    if (activity.channelId !== TEAMS_CHANNEL_ID) return refuse('the activity is not from the msteams channel');

    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) return refuse(`algorithm ${String(header.alg)} is not ${ALGORITHM}`);
      kid = header.kid;
    } catch {
      return refuse('unreadable token');
    }
    if (!kid) return refuse('the token names no key id');

    let key: EndorsedKey | undefined;
    try {
      key = await this.key(kid);
    } catch (error) {
      return refuse(`could not read the signing keys: ${describe(error)}`);
    }
    if (!key) return refuse('unknown signing key');
    if (!Array.isArray(key.endorsements) || !key.endorsements.includes(TEAMS_CHANNEL_ID)) {
      return refuse('the signing key is not endorsed for msteams');
    }

    let claims: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, await importJWK(publicPart(key), ALGORITHM), {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.appId,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
      });
      claims = verified.payload;
    } catch (error) {
      return refuse(`token refused: ${describe(error)}`);
    }
    const serviceUrlClaim = claims.serviceurl;
    if (typeof serviceUrlClaim !== 'string' || normalise(serviceUrlClaim) !== normalise(activity.serviceUrl)) {
      return refuse('the serviceurl claim does not match the activity');
    }
    return { ok: true };
  }

  private async key(kid: string): Promise<EndorsedKey | undefined> {
    if (this.keys.length === 0) {
      await this.refresh(); // nothing to check against: a failure refuses the request
    } else if (this.now() - this.fetchedAt > KEYS_MAX_AGE_MS && this.now() - this.failedAt > RETRY_AFTER_FAILURE_MS) {
      await this.refreshKeepingKeys();
    }
    let key = this.findKey(kid);
    if (!key && this.now() - this.attemptedAt > UNKNOWN_KID_REFRESH_MS) {
      await this.refreshKeepingKeys();
      key = this.findKey(kid);
    }
    return key;
  }

  private findKey(kid: string): EndorsedKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /** With keys held, a failed read is only a warning: they stay in use, and the read is retried a minute later. */
  private async refreshKeepingKeys(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      this.options.logger?.warn(
        { platform: 'teams', err: describe(error), keysHeld: this.keys.length },
        'could not re-read the Bot Connector signing keys; using the ones held and trying again in a minute',
      );
    }
  }

  /** One fetch at a time. A failed fetch keeps the keys read before, and throws. */
  private refresh(): Promise<void> {
    this.loading ??= this.load()
      .catch((error: unknown) => {
        this.failedAt = this.now();
        throw error;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private async load(): Promise<void> {
    this.attemptedAt = this.now();
    const metadata = await getJson(this.options.openIdMetadataUrl);
    const jwksUri = (metadata as { jwks_uri?: unknown }).jwks_uri;
    if (typeof jwksUri !== 'string') throw new Error('the OpenID metadata has no jwks_uri');
    const jwks = await getJson(jwksUri);
    const keys = (jwks as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new Error('the key set has no keys');
    this.keys = keys.filter((k): k is EndorsedKey => k !== null && typeof k === 'object' && (k as JWK).kty === 'RSA');
    this.fetchedAt = this.now();
  }
}

function refuse(reason: string): TokenCheckResult {
  return { ok: false, reason };
}

/** The key material only: `endorsements` and other extras are not JWK parameters jose should see. */
function publicPart(key: EndorsedKey): JWK {
  return { kty: 'RSA', n: key.n, e: key.e };
}

function normalise(url: string): string {
  return stripTrailingSlash(url.trim()).toLowerCase();
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered HTTP ${response.status}`);
  }
  return response.json();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
