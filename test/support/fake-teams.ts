import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, jwtVerify, importX509 } from 'jose';
import { readBody } from './fake-server';

// A local stand-in for Microsoft Teams' side of a bot, speaking its wire format on loopback:
// - the Bot Framework's OpenID metadata and key set (JWKS with endorsements), and RS256 tokens signed by a local
//   key for the activities a test sends, as the Bot Connector would;
// - an Entra token endpoint (client credentials, with a secret or a certificate's client assertion);
// - the Bot Connector REST API v3 under /connector: create a 1:1 conversation, post, reply, update (PUT)
//   activities and look up members. It records every call so tests assert on what the adapter actually sent.

export const FAKE_APP_ID = '11111111-2222-3333-4444-555555555555';
export const FAKE_TENANT_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const FAKE_APP_SECRET = 'fake-client-secret';
export const FAKE_ISSUER = 'https://api.botframework.com';
export const BOT_ACCOUNT_ID = `28:${FAKE_APP_ID}`;
export const APPROVERS_CHANNEL = '19:approvers0123@thread.tacv2';
export const ENDORSED_KID = 'fake-msteams-key';
export const UNENDORSED_KID = 'fake-skype-only-key';

export interface FakeMember {
  /** The app-scoped id, `29:…`. */
  id: string;
  aadObjectId: string;
  name: string;
  email?: string;
  userPrincipalName?: string;
}

export interface ConnectorCall {
  method: string;
  /** Decoded path below the service URL, e.g. /v3/conversations/19:…/activities */
  path: string;
  body: any;
  token: string | undefined;
  status: number;
}

export interface FakeActivity {
  conversationId: string;
  id: string;
  replyToId?: string;
  text?: string;
  attachments?: any[];
  /** Mentions (`{ type: 'mention', mentioned: { id } }`): the only thing in a message that notifies someone. */
  entities?: any[];
  /** Every version shown, oldest first (the post, then each PUT). */
  history: { text?: string; attachments?: any[] }[];
}

export interface TokenRequest {
  form: Record<string, string>;
  assertionValid?: boolean;
}

export interface SignOptions {
  audience?: string;
  issuer?: string;
  serviceUrl?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  kid?: string;
  key?: KeyObject;
  alg?: 'RS256' | 'RS384';
  /** When the token is issued, epoch milliseconds (default: now); for a check whose clock was moved. */
  at?: number;
}

export class FakeTeams {
  readonly connectorCalls: ConnectorCall[] = [];
  readonly tokenRequests: TokenRequest[] = [];
  readonly activities: FakeActivity[] = [];
  readonly members = new Map<string, FakeMember>();
  /** 1:1 conversations created, by the member's `29:` id. */
  readonly personalChats = new Map<string, string>();
  metadataFetches = 0;
  /** While set, the OpenID metadata answers HTTP 503 (an outage of the key endpoint). */
  metadataDown = false;
  /** The certificate (PEM) the app registered, when it signs in with one. */
  registeredCertificate: string | undefined;
  private readonly issuedTokens = new Set<string>();
  private readonly signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly forgerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly failures = new Map<string, number>();
  private server: http.Server | undefined;
  private base = '';

  get url(): string {
    return this.base;
  }
  get openIdMetadataUrl(): string {
    return `${this.base}/v1/.well-known/openidconfiguration`;
  }
  get tokenUrl(): string {
    return `${this.base}/${FAKE_TENANT_ID}/oauth2/v2.0/token`;
  }
  /** The Bot Connector's base URL, as activities carry it in `serviceUrl`. */
  get serviceUrl(): string {
    return `${this.base}/connector/`;
  }
  /** A key the metadata does not list (a forger's). */
  get foreignKey(): KeyObject {
    return this.forgerKey.privateKey;
  }

  addMember(member: FakeMember): void {
    this.members.set(member.id, member);
  }

  /** The next `count` connector calls whose path contains `pathPart` answer HTTP `status`. */
  failNext(pathPart: string, status: number, count = 1): void {
    this.failures.set(`${pathPart}\n${status}`, count);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** A Bot Connector token for an activity, signed like the real one unless options say otherwise. */
  async sign(options: SignOptions = {}): Promise<string> {
    const now = Math.floor((options.at ?? Date.now()) / 1000);
    const expiresIn = options.expiresIn ?? 3600;
    return new SignJWT({ serviceurl: options.serviceUrl ?? this.serviceUrl })
      .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? ENDORSED_KID, typ: 'JWT' })
      .setIssuer(options.issuer ?? FAKE_ISSUER)
      .setAudience(options.audience ?? FAKE_APP_ID)
      .setIssuedAt(now - 60)
      .setNotBefore(now - 60)
      .setExpirationTime(now + expiresIn)
      .sign(options.key ?? (options.kid === UNENDORSED_KID ? this.otherKey.privateKey : this.signingKey.privateKey));
  }

  /** Posts an activity to the bot as the Bot Connector does; `token: null` sends none. */
  async deliver(botUrl: string, activity: object, token?: string | null): Promise<{ status: number; body: any }> {
    const bearer =
      token === undefined
        ? await this.sign({ serviceUrl: (activity as { serviceUrl?: string }).serviceUrl ?? this.serviceUrl })
        : token;
    const response = await fetch(botUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(bearer !== null && { Authorization: `Bearer ${bearer}` }) },
      body: JSON.stringify(activity),
    });
    const text = await response.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: response.status, body };
  }

  activity(id: string): FakeActivity | undefined {
    return this.activities.find((a) => a.id === id);
  }

  /** Messages posted in a conversation (a channel's replies included, by thread root), oldest first. */
  postedIn(conversationId: string): FakeActivity[] {
    return this.activities.filter(
      (a) => a.conversationId === conversationId || a.conversationId.startsWith(`${conversationId};messageid=`),
    );
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const raw = (await readBody(req)).toString('utf8');
    if (req.method === 'GET' && url.pathname === '/v1/.well-known/openidconfiguration') {
      this.metadataFetches++;
      if (this.metadataDown) return send(res, 503, { error: 'temporarily unavailable' });
      return send(res, 200, {
        issuer: FAKE_ISSUER,
        jwks_uri: `${this.base}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/v1/.well-known/keys') {
      return send(res, 200, {
        keys: [
          {
            ...this.signingKey.publicKey.export({ format: 'jwk' }),
            kid: ENDORSED_KID,
            use: 'sig',
            endorsements: ['msteams', 'skype'],
          },
          {
            ...this.otherKey.publicKey.export({ format: 'jwk' }),
            kid: UNENDORSED_KID,
            use: 'sig',
            endorsements: ['skype', 'webchat'],
          },
        ],
      });
    }
    if (req.method === 'POST' && url.pathname === `/${FAKE_TENANT_ID}/oauth2/v2.0/token`) {
      return this.token(raw, res);
    }
    if (url.pathname.startsWith('/connector/')) return this.connector(req.method ?? 'GET', url, raw, req, res);
    send(res, 404, { error: 'not found' });
  }

  private async token(raw: string, res: http.ServerResponse): Promise<void> {
    const form = Object.fromEntries(new URLSearchParams(raw));
    const request: TokenRequest = { form };
    this.tokenRequests.push(request);
    if (
      form.grant_type !== 'client_credentials' ||
      form.client_id !== FAKE_APP_ID ||
      form.scope !== 'https://api.botframework.com/.default'
    ) {
      return send(res, 400, { error: 'invalid_request', error_description: 'AADSTS900144: bad grant' });
    }
    let valid = form.client_secret === FAKE_APP_SECRET;
    if (form.client_assertion && this.registeredCertificate) {
      try {
        await jwtVerify(form.client_assertion, await importX509(this.registeredCertificate, 'PS256'), {
          issuer: FAKE_APP_ID,
          subject: FAKE_APP_ID,
          audience: this.tokenUrl,
        });
        valid = form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
      } catch {
        valid = false;
      }
      request.assertionValid = valid;
    }
    if (!valid)
      return send(res, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
      });
    const token = `fake-bot-token-${randomUUID()}`;
    this.issuedTokens.add(token);
    send(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: token });
  }

  private async connector(
    method: string,
    url: URL,
    raw: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const path = url.pathname.slice('/connector'.length).split('/').map(decodeURIComponent).join('/');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const body = raw ? JSON.parse(raw) : undefined;
    const call: ConnectorCall = { method, path, body, token, status: 200 };
    this.connectorCalls.push(call);
    const answer = (status: number, payload: unknown) => {
      call.status = status;
      send(res, status, payload);
    };
    if (!token || !this.issuedTokens.has(token))
      return answer(401, { message: 'Authorization has been denied for this request.' });
    for (const [key, count] of this.failures) {
      const [part, status] = key.split('\n') as [string, string];
      if (count > 0 && path.includes(part)) {
        this.failures.set(key, count - 1);
        if (status === '429') res.setHeader('Retry-After', '0');
        return answer(Number(status), { error: { code: 'Injected', message: `injected HTTP ${status}` } });
      }
    }

    const segments = path.split('/').filter(Boolean); // v3, conversations, {id}, activities|members, {id}
    if (segments[0] !== 'v3' || segments[1] !== 'conversations') return answer(404, { error: { code: 'NotFound' } });
    if (method === 'POST' && segments.length === 2) {
      const memberId = body?.members?.[0]?.id;
      if (body?.isGroup !== false || typeof memberId !== 'string' || !this.members.has(memberId)) {
        return answer(400, { error: { code: 'BadArgument', message: 'Unknown member' } });
      }
      const id = this.personalChats.get(memberId) ?? `a:personal-${this.personalChats.size + 1}`;
      this.personalChats.set(memberId, id);
      return answer(201, { id });
    }
    const conversationId = segments[2]!;
    if (segments[3] === 'members' && method === 'GET' && segments[4]) {
      const wanted = segments[4];
      const member = [...this.members.values()].find(
        (m) => m.id === wanted || m.aadObjectId.toLowerCase() === wanted.toLowerCase(),
      );
      if (!member)
        return answer(404, {
          error: { code: 'MemberNotFoundInConversation', message: 'The member is not in this conversation' },
        });
      return answer(200, { ...member, objectId: member.aadObjectId, tenantId: FAKE_TENANT_ID, userRole: 'user' });
    }
    if (segments[3] === 'activities') {
      if (method === 'POST') {
        const replyToId = segments[4] ?? body?.replyToId;
        const id = `${Date.now()}${String(this.activities.length).padStart(4, '0')}`;
        const version = { text: body?.text, attachments: body?.attachments };
        this.activities.push({
          conversationId,
          id,
          ...(replyToId && { replyToId }),
          ...version,
          entities: body?.entities,
          history: [version],
        });
        return answer(201, { id });
      }
      if (method === 'PUT' && segments[4]) {
        const existing = this.activities.find((a) => a.id === segments[4] && a.conversationId === conversationId);
        if (!existing) return answer(404, { error: { code: 'ActivityNotFoundInConversation' } });
        existing.text = body?.text;
        existing.attachments = body?.attachments;
        existing.entities = body?.entities;
        existing.history.push({ text: body?.text, attachments: body?.attachments });
        return answer(200, { id: existing.id });
      }
    }
    answer(404, { error: { code: 'NotFound' } });
  }
}

// ---- activities as Teams sends them ----

export interface ActivityFrom {
  member: FakeMember;
  serviceUrl: string;
  conversationId?: string;
  conversationType?: 'channel' | 'groupChat' | 'personal';
  tenantId?: string;
  id?: string;
}

function base(type: string, from: ActivityFrom): Record<string, any> {
  const conversationType = from.conversationType ?? 'channel';
  return {
    type,
    id: from.id ?? `f:${randomUUID()}`,
    timestamp: new Date().toISOString(),
    channelId: 'msteams',
    serviceUrl: from.serviceUrl,
    from: { id: from.member.id, name: from.member.name, aadObjectId: from.member.aadObjectId },
    recipient: { id: BOT_ACCOUNT_ID, name: 'jitbot' },
    conversation: {
      id: from.conversationId ?? APPROVERS_CHANNEL,
      conversationType,
      tenantId: from.tenantId ?? FAKE_TENANT_ID,
      ...(conversationType !== 'personal' && { isGroup: true }),
    },
    channelData: { tenant: { id: from.tenantId ?? FAKE_TENANT_ID } },
    locale: 'en-US',
  };
}

/**
 * `@jitbot <text>` in a channel (or the text alone in the 1:1 chat). Teams sends what was typed HTML-encoded
 * (`&`, `<`, `>` as entities), with mentions as `<at>…</at>` tags; `encoded` says `text` is in that form already.
 */
export function messageActivity(
  from: ActivityFrom,
  text: string,
  options: { mention?: boolean; encoded?: boolean } = {},
): Record<string, any> {
  const mention = options.mention ?? from.conversationType !== 'personal';
  const wire = options.encoded ? text : text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    ...base('message', from),
    text: mention ? `<at>jitbot</at> ${wire}` : wire,
    textFormat: 'plain',
    entities: mention
      ? [{ type: 'mention', text: '<at>jitbot</at>', mentioned: { id: BOT_ACCOUNT_ID, name: 'jitbot' } }]
      : [],
  };
}

/** An Action.Execute click on a card, with what was typed in the comment box. */
export function cardActionActivity(
  from: ActivityFrom,
  click: { verb: string; requestId: string; comment?: string; cardActivityId?: string },
): Record<string, any> {
  return {
    ...base('invoke', from),
    name: 'adaptiveCard/action',
    ...(click.cardActivityId && { replyToId: click.cardActivityId }),
    value: {
      action: {
        type: 'Action.Execute',
        verb: click.verb,
        data: { requestId: click.requestId, ...(click.comment !== undefined && { comment: click.comment }) },
      },
      trigger: 'manual',
    },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}
