/**
 * The OpenID Provider: oidc-provider configured from Tessera's config and mounted inside the Koa
 * app. oidc-provider does the protocol (discovery, JWKS, authorization code + PKCE, refresh
 * rotation, client credentials, device flow, userinfo, end-session); Tessera supplies accounts
 * (its users), storage (its store), keys (generated and shared through the store), the login
 * pages (handed in as `ProviderPages`: the web layer renders them, this service does not import
 * it) and the introspection policy.
 */
import type { Context } from 'koa';
import type { JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { TemporarilyUnavailable, TooManyRequests, oauthErrorBody } from '../errors.js';
import type { TesseraConfig } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditTrail } from '../audit/trail.js';
import type { CredentialsNotBefore } from '../tokens/not-before.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ProviderKeys } from './keys.js';
import { DEVICE_GRANT, DeviceGuard } from './device-guard.js';
import { checkRefreshTarget } from './refresh-checks.js';
import { ClientPolicy } from './client-policy.js';
import { storeAdapter } from './adapter.js';
import { CLI_CLIENT_ID, providerClients } from './clients-metadata.js';
import type { ProviderLogins } from '../tokens/bearer.js';
import type { UserRecord } from '../store/records.js';
import { JwtIntrospection, publicKeySet } from './jwt-introspection.js';
import { KEY_SETTINGS } from './keys.js';
import { meterProviderIntrospection } from '../observability/provider-metrics.js';

/** What the provider needs from the rest of Tessera: the composition root's services fit it. */
export interface ProviderServices {
  config: TesseraConfig;
  clock: Clock;
  store: Store;
  notBefore: CredentialsNotBefore;
  keys: ProviderKeys;
  audit: AuditTrail;
  logger: Logger;
  metrics: Metrics;
}

type OidcPage = (ctx: KoaContextWithOIDC, ...args: never[]) => Promise<void>;

/**
 * The pages oidc-provider shows itself (device code entry and confirmation, logout, errors) and
 * the two the device-flow guard shows; their signatures are oidc-provider's `features.*Source`
 * and `renderError` hooks. Injected so the protocol layer does not depend on the web layer.
 */
export interface ProviderPages {
  deviceInput: (ctx: KoaContextWithOIDC, form: string, out: unknown, err: (Error & { userCode?: string }) | undefined) => Promise<void>;
  deviceConfirm: (ctx: KoaContextWithOIDC, form: string, client: unknown, info: unknown, userCode: string) => Promise<void>;
  deviceSuccess: OidcPage;
  logout: (ctx: KoaContextWithOIDC, form: string) => Promise<void>;
  loggedOut: OidcPage;
  error: (ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }, err: unknown) => Promise<void>;
  /** A device code posted without the page's session cookie. */
  deviceStartAgain: (ctx: Context) => void;
  /** Too many wrong device codes; `retryAfterSeconds` as in the Retry-After header. */
  deviceThrottled: (ctx: Context, retryAfterSeconds: string) => void;
}

const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];

const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'preferred_username', 'tessera_source', 'tessera_role'],
  email: ['email'],
  groups: ['groups'],
};

/** oidc-provider's error events of the endpoints where clients authenticate. */
const CLIENT_AUTH_EVENTS = ['grant.error', 'introspection.error', 'revocation.error', 'device_authorization.error'] as const;

/** Routes under /oauth2, next to Tessera's own /oauth2/introspect and /oauth2/revoke. */
const ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  jwks: '/oauth2/jwks',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  device_authorization: '/oauth2/device/auth',
  code_verification: '/oauth2/device',
  end_session: '/oauth2/session/end',
  pushed_authorization_request: '/oauth2/par',
};

/**
 * The user exists, is enabled, and nothing voided their credentials after the token was issued
 * (`iat`, s): a password reset, "revoke all of a user's tokens" or the emergency switch. `iat`
 * has whole seconds, so a token from the same second as the stamp counts as earlier (fail closed).
 */
async function userStillValid(services: Pick<ProviderServices, 'store' | 'notBefore'>, accountId: string, iat: number | undefined): Promise<UserRecord | null> {
  const user = await services.store.getUser(accountId);
  if (!user?.enabled) return null;
  if (iat !== undefined && (iat * 1000 < user.sessionsNotBefore || !services.notBefore.allows(user, iat * 1000))) return null;
  return user;
}

/** Paths the provider answers; everything else is Tessera's. */
export function isProviderPath(path: string): boolean {
  return path.startsWith('/oauth2/') || path === '/.well-known/openid-configuration' || path.startsWith('/.well-known/oauth-authorization-server');
}

/** oidc-provider's session cookie: the browser a device-code attempt comes from. */
const SESSION_COOKIE = '_session';

/** `oidc.cliClient: { admins: false }`: the CLI's SSO login is not for admins. */
export function cliRefuses(services: { config: TesseraConfig }, clientId: string | undefined, user: UserRecord): boolean {
  const policy = services.config.oidc.cliClient;
  return clientId === CLI_CLIENT_ID && typeof policy === 'object' && !policy.admins && user.role === 'admin';
}

function buildConfiguration(services: ProviderServices, pages: ProviderPages, jwks: { keys: object[] }, keys: string[], guard: DeviceGuard): Configuration {
  const { config, store } = services;
  const accountStillValid = (accountId: string, iat: number | undefined) => userStillValid(services, accountId, iat);
  const resources = new Map(config.resources.map((r) => [r.indicator, r]));
  const policy = new ClientPolicy(config.clients);
  const ttl = (ms: number) => Math.floor(ms / 1000);

  return {
    adapter: storeAdapter(store),
    clients: providerClients(config.clients, config.oidc.cliClient !== false),
    jwks: jwks as Configuration['jwks'],
    cookies: { keys },
    scopes: OIDC_SCOPES,
    claims: CLAIMS,
    routes: ROUTES,
    // Authorization code only: no implicit or hybrid flows (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // server.cors.origins (src/http/cors.ts), besides oidc-provider's own rule: a public client's
    // or userinfo caller's redirect-URI origins.
    clientBasedCORS: (ctx, origin, client) =>
      config.server.cors.origins.includes(origin) ||
      (origin !== 'null' && (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') && client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin)),
    extraClientMetadata: { properties: ['tessera:first_party', 'tessera:resources'] },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl(config.oidc.accessTokenTtl),
      AuthorizationCode: ttl(config.oidc.authorizationCodeTtl),
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl(config.oidc.accessTokenTtl),
      DeviceCode: ttl(config.oidc.deviceCodeTtl),
      Grant: ttl(config.oidc.refreshTokenTtl),
      IdToken: ttl(config.oidc.idTokenTtl),
      Interaction: 3600,
      RefreshToken: ttl(config.oidc.refreshTokenTtl),
      Session: ttl(config.oidc.sessionTtl),
    },
    // Every refresh rotates; a rotated (consumed) refresh token presented again revokes the grant.
    rotateRefreshToken: () => true,
    // oidc-provider passes the token being used (refresh, userinfo): one voided by a password
    // reset or a revoke-all finds no account, which refuses it.
    async findAccount(ctx, sub, token) {
      const iat = (token as { iat?: number } | undefined)?.iat;
      const user = await userStillValid(services, sub, typeof iat === 'number' ? iat : undefined);
      if (!user || cliRefuses(services, ctx.oidc?.client?.clientId, user)) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return {
            sub: user.id,
            name: user.displayName,
            preferred_username: user.username,
            email: user.email || undefined,
            groups: user.groups,
            tessera_source: user.source,
            tessera_role: user.role,
          };
        },
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // First-party clients get their grant without a consent page.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (!oidc.client!['tessera:first_party'] || !oidc.session?.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session.accountId });
      const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : 'openid';
      grant.addOIDCScope(scope.split(' ').filter((s) => OIDC_SCOPES.includes(s)).join(' '));
      for (const [indicator, info] of Object.entries(oidc.resourceServers ?? {})) grant.addResourceScope(indicator, (info as { scope?: string }).scope ?? '');
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: {
        enabled: true,
        // A code that matched nothing counts toward the guessing limits (DeviceGuard).
        userCodeInputSource: async (ctx, form, out, err) => {
          if ((err as Error | undefined)?.name === 'NotFoundError') await guard.miss(ctx.ip, ctx.cookies.get(SESSION_COOKIE));
          return pages.deviceInput(ctx, form, out, err as (Error & { userCode?: string }) | undefined);
        },
        userCodeConfirmSource: pages.deviceConfirm,
        successSource: pages.deviceSuccess,
      },
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logout, postLogoutSuccessSource: pages.loggedOut },
      introspection: {
        enabled: true,
        // Replaces the default that lets any confidential client introspect any token: a client
        // may introspect tokens issued to it, or issued for a resource it serves.
        allowedPolicy: async (_ctx, client, found) => {
          const token = found as typeof found & { aud?: string | string[]; accountId?: string; iat?: number };
          const mine = token.clientId === client.clientId;
          const served = (client['tessera:resources'] as string[] | undefined) ?? [];
          const audiences = ([] as unknown[]).concat(token.aud ?? []);
          if (!mine && (token.kind === 'RefreshToken' || !audiences.some((aud) => typeof aud === 'string' && served.includes(aud)))) return false;
          // oidc-provider does not look at the account here: a disabled or deleted user's tokens,
          // and tokens from before a password reset, must read as inactive like their PATs.
          if (!token.accountId) return token.iat === undefined || services.notBefore.allowsUnowned(token.iat * 1000);
          return (await accountStillValid(token.accountId, token.iat)) !== null;
        },
      },
      // RFC 9701 signed introspection answers (and introspection_signing_alg_values_supported in
      // discovery); Tessera's own tokens get the same from src/http/routes/oauth-routes.ts.
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // Only the client a token was issued to may revoke it (RFC 7009 §2.1).
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, indicator, client) {
          const resource = resources.get(indicator);
          if (!resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            // Only what this client is allowed (clients[].allowedResources / allowedScopes).
            scope: policy.providerScopesFor(client?.clientId, resource, ctx.oidc?.params?.scope),
            audience: resource.indicator,
            accessTokenTTL: ttl(resource.accessTokenTtl),
            accessTokenFormat: resource.accessTokenFormat,
            ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
    renderError: pages.error,
  } satisfies Configuration;
}

/**
 * Discovery lists RFC 8693 token exchange, which Tessera answers at this token endpoint itself
 * (src/http/routes/token-exchange.ts) before the provider sees the request.
 */
async function advertiseTokenExchange(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const body = ctx.body as { grant_types_supported?: unknown } | undefined;
  if (ctx.path.startsWith('/.well-known/') && Array.isArray(body?.grant_types_supported)) {
    body.grant_types_supported.push('urn:ietf:params:oauth:grant-type:token-exchange');
  }
}

/**
 * Holds the running provider and swaps it when the signing keys change (rotation on this or
 * another instance): a Provider's keys are fixed at construction; all its state is in the store.
 */
export class OpenIdProvider {
  private provider!: Provider;
  private handler!: ReturnType<Provider['callback']>;
  private version: string | null = null;
  private jwks: { keys: JWK[] } = { keys: [] };
  private timer: NodeJS.Timeout | undefined;
  private verificationKeys!: ReturnType<typeof publicKeySet>;
  private readonly guard: DeviceGuard;
  /** Introspection of the provider's JWT access tokens, which it neither stores nor introspects. */
  readonly jwts: JwtIntrospection;
  private phaseTimer: NodeJS.Timeout | undefined;
  private reloads: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly services: ProviderServices,
    private readonly pages: ProviderPages,
  ) {
    this.guard = new DeviceGuard(services.store, services.clock, services.config.oidc.deviceCodeGuesses);
    this.jwts = new JwtIntrospection(services.config.server.issuer!, services.store, services.notBefore, () => this.verificationKeys);
  }

  get current(): Provider {
    return this.provider;
  }

  async load(): Promise<void> {
    const { config, keys } = this.services;
    const snapshot = await keys.snapshot();
    this.version = snapshot.version;
    this.schedulePhaseChange(snapshot.nextChangeAt);
    const provider = new Provider(config.server.issuer!, buildConfiguration(this.services, this.pages, snapshot.jwks, snapshot.cookieKeys, this.guard));
    this.verificationKeys = publicKeySet(snapshot.jwks);
    this.jwks = snapshot.jwks;
    provider.proxy = config.server.trustProxy;
    // A store outage inside oidc-provider surfaces as its generic 500 server_error: mark it, and
    // answer 503 temporarily_unavailable instead, as Tessera's own endpoints do. Other server
    // errors are logged (message only: store errors can quote keys, which contain token ids).
    provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
      if (err instanceof TemporarilyUnavailable) ctx.state.storeDown = true;
      else this.services.logger.error({ component: 'oidc' }, `openid provider error: ${err.message}`);
    });
    // oidc-provider revokes grants itself (refresh token reuse, RFC 7009, logout) and says so after.
    provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
      const event = { type: 'oidc.grant_revoked' as const, target: { clientId: ctx.oidc?.client?.clientId }, details: { grantId } };
      this.services.audit.record(event).catch((err: Error) => console.error(`[tessera] audit event oidc.grant_revoked not stored: ${err.message}`));
    });
    for (const name of CLIENT_AUTH_EVENTS) provider.on(name as 'grant.error', (ctx: KoaContextWithOIDC, err: { error?: string }) => this.auditClientAuth(ctx, err));
    // oidc-provider writes its responses itself, past the app's error mapper: the same 503, the
    // same headers and the same body are applied here.
    provider.use(async (ctx, next) => {
      await next();
      if (!ctx.state.storeDown) return;
      const unavailable = new TemporarilyUnavailable();
      ctx.status = unavailable.status;
      ctx.set(unavailable.headers);
      if (ctx.response.is('json')) ctx.body = oauthErrorBody(unavailable);
    });
    meterProviderIntrospection(provider, this.services.metrics);
    if (config.workloadIdentity.issuers.length) provider.use(advertiseTokenExchange);
    this.provider = provider;
    this.handler = provider.callback();
  }

  /**
   * The key this instance's provider signs with (first in its JWKS), for Tessera's own signed
   * answers (RFC 9701): always in the JWKS this instance serves, also right after a rotation.
   */
  currentSigningKey(): JWK {
    return this.jwks.keys[0]!;
  }

  /**
   * Follows key changes made by any instance: pushed through the store's settings channel, with
   * a poll every `intervalMs` as the fallback for a missed announcement (which is why
   * `oidc.keyActivationDelay` must exceed the poll interval).
   */
  async watch(intervalMs = 30_000): Promise<void> {
    const reload = () => void this.reloadIfChanged().catch(() => undefined);
    this.timer = setInterval(reload, intervalMs);
    this.timer.unref();
    try {
      this.unsubscribe = await this.services.store.watchSettings((name) => {
        if ((KEY_SETTINGS as readonly string[]).includes(name)) reload();
      });
    } catch {
      // The store is down right now; the poll still picks changes up once it is back.
    }
  }

  /**
   * Rebuilds the provider when the published keys or the signing key changed. One at a time, in
   * order: two overlapping reloads (a push and the poll) must not let the one that read the older
   * key set install it last.
   */
  reloadIfChanged(): Promise<boolean> {
    const run = this.reloads.then(async () => {
      if ((await this.services.keys.snapshot()).version === this.version) return false;
      await this.load();
      return true;
    });
    this.reloads = run.catch(() => undefined);
    return run;
  }

  /** A key activates or retires at a known time: rebuild then, without waiting for the poll. */
  private schedulePhaseChange(at: number | undefined): void {
    clearTimeout(this.phaseTimer);
    if (at === undefined) return;
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a later change is caught by a later timer or the poll.
    const delay = Math.min(Math.max(at - this.services.clock(), 0) + 10, 2 ** 31 - 1);
    this.phaseTimer = setTimeout(() => void this.reloadIfChanged().catch(() => undefined), delay);
    this.phaseTimer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.phaseTimer);
    void this.unsubscribe?.().catch(() => undefined);
  }

  /** A client that failed to authenticate at one of the provider's endpoints (token, introspection, ...). */
  private auditClientAuth(ctx: KoaContextWithOIDC, err: { error?: string }): void {
    if (err?.error !== 'invalid_client') return;
    const claimed = ctx.oidc?.client?.clientId ?? (ctx.oidc?.params?.client_id as string | undefined);
    const event = { type: 'client.auth_failed' as const, outcome: 'failed' as const, reason: 'invalid_client', actor: { credential: 'anonymous' as const }, target: { clientId: claimed?.slice(0, 200) } };
    this.services.audit.record(event).catch((e: Error) => console.error(`[tessera] audit event client.auth_failed not stored: ${e.message}`));
  }

  /** Lets the gateway's API accept what the provider issued to the CLI (`tessera login --sso`). */
  cliLogins(): ProviderLogins {
    const { store } = this.services;
    return {
      verify: async (token: string): Promise<{ user: UserRecord; issuedAt: number } | null> => {
        if (token.length > 512) return null;
        const found = await this.provider.AccessToken.find(token);
        if (!found?.isValid || found.clientId !== CLI_CLIENT_ID || !found.accountId) return null;
        const grant = found.grantId ? await this.provider.Grant.find(found.grantId) : undefined;
        if (!grant) return null;
        const user = await userStillValid(this.services, found.accountId, found.iat);
        return user && !cliRefuses(this.services, CLI_CLIENT_ID, user) ? { user, issuedAt: (found.iat ?? 0) * 1000 } : null;
      },
      revoke: async (token: string): Promise<void> => {
        if (token.length > 512) return;
        const found = (await this.provider.RefreshToken.find(token)) ?? (await this.provider.AccessToken.find(token));
        if (found?.clientId !== CLI_CLIENT_ID || !found.grantId) return;
        const grantId = found.grantId;
        await this.services.audit.around({ type: 'oidc.grant_revoked', target: { userId: found.accountId, clientId: CLI_CLIENT_ID }, details: { grantId } }, async () => {
          await store.providerRevokeByGrantId(grantId);
          await (await this.provider.Grant.find(grantId))?.destroy();
        });
      },
    };
  }

  /**
   * Hands the request to the provider (it writes the response itself). The HTTP layer has read
   * the form body already (`readProviderForm`: the gateway's size limit, 413), so the device-flow
   * and refresh guards look at it before the provider acts.
   */
  async handle(ctx: Context, form: URLSearchParams | null): Promise<void> {
    if (form && ctx.method === 'POST' && ctx.path === ROUTES.code_verification) {
      // Without the page's session there is nothing to check the form against (oidc-provider
      // would fail with a 500): send the person back to the page.
      if (!ctx.cookies.get(SESSION_COOKIE)) return this.pages.deviceStartAgain(ctx);
      if (form.get('user_code') && !form.get('confirm') && !form.get('abort')) {
        try {
          await this.guard.checkAttempt(ctx.ip, ctx.cookies.get(SESSION_COOKIE));
        } catch (err) {
          if (!(err instanceof TooManyRequests)) throw err;
          ctx.set(err.headers);
          return this.pages.deviceThrottled(ctx, err.headers['Retry-After']!);
        }
      }
    }
    if (form && ctx.method === 'POST' && ctx.path === ROUTES.token) {
      if (form.get('grant_type') === DEVICE_GRANT) await this.guard.poll(form.get('device_code') ?? '');
      await checkRefreshTarget(this.services.store, this.services.config, form);
    }
    ctx.respond = false;
    await this.handler(ctx.req, ctx.res);
  }
}
