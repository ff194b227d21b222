/**
 * The OpenID Provider: oidc-provider configured from Tessera's config and mounted inside the Koa
 * app. oidc-provider does the protocol (discovery, JWKS, authorization code + PKCE, refresh
 * rotation, client credentials, device flow, userinfo, end-session); Tessera supplies accounts
 * (its users), storage (its store), keys (generated and shared through the store), the login
 * pages (src/web/interactions.ts) and the introspection policy.
 */
import type { JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { TemporarilyUnavailable } from '../errors.js';
import type { Services } from '../gateway.js';
import { renderDeviceInput, renderDeviceConfirm, renderDeviceSuccess, renderLogout, renderLoggedOut, renderProviderError } from '../web/provider-pages.js';
import { storeAdapter } from './adapter.js';
import { CLI_CLIENT_ID, providerClients } from './clients-metadata.js';
import type { ProviderLogins } from '../tokens/bearer.js';
import type { UserRecord } from '../store/records.js';
import { cookieKeys, loadSigningKeys, providerJwks, signingKeysVersion } from './keys.js';

const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];

const CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'preferred_username', 'tessera_source', 'tessera_role'],
  email: ['email'],
  groups: ['groups'],
};

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

/** The user exists, is enabled, and had no password reset after the token was issued (`iat`, s). */
async function userStillValid(store: Services['store'], accountId: string, iat: number | undefined): Promise<UserRecord | null> {
  const user = await store.getUser(accountId);
  if (!user?.enabled || (iat !== undefined && iat * 1000 < user.sessionsNotBefore)) return null;
  return user;
}

/** Paths the provider answers; everything else is Tessera's. */
export function isProviderPath(path: string): boolean {
  return path.startsWith('/oauth2/') || path === '/.well-known/openid-configuration' || path.startsWith('/.well-known/oauth-authorization-server');
}

function buildConfiguration(services: Services, jwks: { keys: object[] }, keys: string[]): Configuration {
  const { config, store } = services;
  const accountStillValid = (accountId: string, iat: number | undefined) => userStillValid(store, accountId, iat);
  const resources = new Map(config.resources.map((r) => [r.indicator, r]));
  const ttl = (ms: number) => Math.floor(ms / 1000);

  return {
    adapter: storeAdapter(store),
    clients: providerClients(config.clients),
    jwks: jwks as Configuration['jwks'],
    cookies: { keys },
    scopes: OIDC_SCOPES,
    claims: CLAIMS,
    routes: ROUTES,
    // Authorization code only: no implicit or hybrid flows (RFC 9700 §2.1.2).
    responseTypes: ['code'],
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
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
    async findAccount(_ctx, sub) {
      const user = await store.getUser(sub);
      if (!user || !user.enabled) return undefined;
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
        userCodeInputSource: renderDeviceInput,
        userCodeConfirmSource: renderDeviceConfirm,
        successSource: renderDeviceSuccess,
      },
      rpInitiatedLogout: { enabled: true, logoutSource: renderLogout, postLogoutSuccessSource: renderLoggedOut },
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
          return !token.accountId || (await accountStillValid(token.accountId, token.iat)) !== null;
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
        getResourceServerInfo(_ctx, indicator) {
          const resource = resources.get(indicator);
          if (!resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: resource.scopes.join(' '),
            audience: resource.indicator,
            accessTokenTTL: ttl(resource.accessTokenTtl),
            accessTokenFormat: resource.accessTokenFormat,
            ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
    renderError: renderProviderError,
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

  constructor(private readonly services: Services) {}

  get current(): Provider {
    return this.provider;
  }

  async load(): Promise<void> {
    const { store, config } = this.services;
    const keys = await loadSigningKeys(store);
    this.jwks = providerJwks(keys);
    this.version = await signingKeysVersion(store);
    const provider = new Provider(config.server.issuer!, buildConfiguration(this.services, providerJwks(keys), await cookieKeys(store, config.oidc.cookieKeys)));
    provider.proxy = config.server.trustProxy;
    // A store outage inside oidc-provider surfaces as its generic 500 server_error: mark it, and
    // answer 503 temporarily_unavailable instead, as Tessera's own endpoints do. Other server
    // errors are logged (message only: store errors can quote keys, which contain token ids).
    provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
      if (err instanceof TemporarilyUnavailable) ctx.state.storeDown = true;
      else console.error(`[tessera] openid provider error: ${err.message}`);
    });
    provider.use(async (ctx, next) => {
      await next();
      if (!ctx.state.storeDown) return;
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      if (ctx.response.is('json')) ctx.body = { error: 'temporarily_unavailable', error_description: 'the server could not complete the request' };
    });
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

  /** Polls the store for key changes made by other instances. */
  watch(intervalMs = 30_000): void {
    this.timer = setInterval(() => void this.reloadIfChanged().catch(() => undefined), intervalMs);
    this.timer.unref();
  }

  async reloadIfChanged(): Promise<boolean> {
    if ((await signingKeysVersion(this.services.store)) === this.version) return false;
    await this.load();
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Lets the gateway's API accept what the provider issued to the CLI (`tessera login --sso`). */
  cliLogins(): ProviderLogins {
    const { store } = this.services;
    return {
      verify: async (token: string): Promise<UserRecord | null> => {
        if (token.length > 512) return null;
        const found = await this.provider.AccessToken.find(token);
        if (!found?.isValid || found.clientId !== CLI_CLIENT_ID || !found.accountId) return null;
        const grant = found.grantId ? await this.provider.Grant.find(found.grantId) : undefined;
        if (!grant) return null;
        return userStillValid(store, found.accountId, found.iat);
      },
      revoke: async (token: string): Promise<void> => {
        if (token.length > 512) return;
        const found = (await this.provider.RefreshToken.find(token)) ?? (await this.provider.AccessToken.find(token));
        if (found?.clientId !== CLI_CLIENT_ID || !found.grantId) return;
        await store.providerRevokeByGrantId(found.grantId);
        await (await this.provider.Grant.find(found.grantId))?.destroy();
      },
    };
  }

  /** Koa middleware: hands the request to the provider (it writes the response itself). */
  async handle(ctx: { req: import('node:http').IncomingMessage; res: import('node:http').ServerResponse; respond?: boolean }): Promise<void> {
    ctx.respond = false;
    await this.handler(ctx.req, ctx.res);
  }
}
