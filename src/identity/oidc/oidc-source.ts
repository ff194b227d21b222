/**
 * Sign-in through an upstream OpenID Provider (Dex's OIDC connector, as a `RedirectSource` and a
 * `RevalidatingSource`), on openid-client:
 *
 *   - discovery from `issuer` at start-up (retried at sign-in while it fails: 503 until then);
 *   - authorization code flow with PKCE (S256), `state` (the pending sign-in's opaque key, see
 *     redirect-sign-ins.ts) and a `nonce`, both kept server-side with the PKCE verifier;
 *   - the code is redeemed with the client's credentials, and the ID token is accepted only
 *     when openid-client has checked its signature against the provider's JWKS (never `none`,
 *     never a symmetric key the client could forge; see discover()), issuer, audience, nonce,
 *     `exp`/`iat`;
 *   - optional userinfo, whose `sub` must be the ID token's; then the admission rules and the
 *     claim mapping of claims.ts;
 *   - the refresh token, if the provider issued one, is kept for re-validation: a provider that
 *     refuses it (user removed, disabled, consent withdrawn) disables the Tessera user.
 */
import * as client from 'openid-client';
import type { Clock } from '../../clock.js';
import { Forbidden, TemporarilyUnavailable } from '../../errors.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import type { SealedSecrets } from '../../oauth/sealed-secrets.js';
import type { Store } from '../../store/store.js';
import { SourceRevalidator } from '../revalidator.js';
import type { Identity, RedirectSource, RevalidatingSource, SourceLifecycle } from '../source.js';
import type { UserService } from '../users.js';
import { identityFromClaims, type Claims } from './claims.js';
import type { OidcSourceConfig } from './config.js';
import { RefreshGrants } from './refresh-grants.js';

/** Failing to reach the provider's discovery again is retried at most this often. */
const RETRY_MS = 30_000;
/** Per request to the provider: a hung provider must not hold a sign-in or a revalidation round. */
const REQUEST_TIMEOUT_S = 10;

export interface OidcSourceDeps {
  store: Store;
  clock: Clock;
  users: UserService;
  /** Public base URL of the gateway (`server.issuer`): the callback is under it. */
  issuer: string;
  /** Seals the provider's refresh tokens at rest (with the KEK, when one is set). */
  secrets: SealedSecrets;
  logger?: Logger;
}

/** What the sign-in start keeps server-side until the provider's answer comes back. */
interface PendingChecks {
  verifier: string;
  nonce: string;
}

const isLoopback = (url: string) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i.test(url);

export class OidcSource implements RedirectSource, RevalidatingSource, SourceLifecycle {
  readonly id: string;
  readonly displayName: string;
  readonly startPath: string;
  readonly redirectUri: string;
  readonly revalidateIntervalMs: number;
  readonly revalidator: SourceRevalidator;
  private readonly grants: RefreshGrants;
  private readonly log: Logger;
  private configuration: client.Configuration | undefined;
  private loading: Promise<client.Configuration> | undefined;
  private lastFailure = 0;

  constructor(
    private readonly config: OidcSourceConfig,
    private readonly deps: OidcSourceDeps,
  ) {
    this.id = config.id;
    this.displayName = config.displayName;
    this.startPath = `/sso/${config.id}/login`;
    this.redirectUri = `${deps.issuer.replace(/\/+$/, '')}/sso/${config.id}/callback`;
    this.revalidateIntervalMs = config.revalidateInterval;
    this.log = (deps.logger ?? silentLogger).child({ component: 'oidc-upstream', source: config.id });
    this.grants = new RefreshGrants(deps.store, config.id, deps.clock, deps.secrets);
    this.revalidator = new SourceRevalidator(this, deps.users, deps.store, deps.clock, config.revalidateInterval, this.log);
  }

  /** Whether discovery succeeded (sign-ins can start): for metrics. */
  get hasMetadata(): boolean {
    return this.configuration !== undefined;
  }

  up(): boolean {
    return this.hasMetadata;
  }

  async load(): Promise<void> {
    // provider() has logged why, if it failed.
    await this.provider().catch(() => undefined);
  }

  start(): void {
    this.revalidator.start();
  }

  async close(): Promise<void> {
    this.revalidator.stop();
  }

  private async provider(): Promise<client.Configuration> {
    if (this.configuration) return this.configuration;
    if (this.deps.clock() - this.lastFailure < RETRY_MS) throw this.unavailable();
    this.loading ??= this.discover()
      .then((configuration) => (this.configuration = configuration))
      .catch((err: Error) => {
        this.lastFailure = this.deps.clock();
        this.log.warn(`discovery of ${this.config.issuer} failed: ${err.message}`);
        throw this.unavailable();
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret, clockSkew } = this.config;
    const metadata = { client_secret: clientSecret, [client.clockTolerance]: Math.round(clockSkew / 1000) };
    const auth = clientSecret ? client.ClientSecretBasic(clientSecret) : client.None();
    // Plain http only for a provider on this machine (the config refuses any other http issuer).
    const execute = isLoopback(issuer) ? [client.allowInsecureRequests] : [];
    // openid-client, as OIDC Core §3.1.3.7 allows, trusts an ID token from the token endpoint on
    // the strength of TLS alone and skips its signature. Tessera checks it anyway: the provider
    // may sit behind a TLS-terminating proxy, and a loopback provider has no TLS at all.
    execute.push(client.enableNonRepudiationChecks);
    return client.discovery(new URL(issuer), clientId, metadata, auth, { execute, timeout: REQUEST_TIMEOUT_S });
  }

  private unavailable(): TemporarilyUnavailable {
    return new TemporarilyUnavailable(`the identity provider of ${this.displayName} is not available`);
  }

  async signInRedirect(relayState: string): Promise<{ url: string; requestId: string }> {
    const configuration = await this.provider();
    const checks: PendingChecks = { verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce() };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.scopes.join(' '),
      state: relayState,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, requestId: JSON.stringify(checks) };
  }

  async verifyResponse(params: Record<string, unknown>, requestId: string | null): Promise<Identity> {
    // Nothing can be checked without the nonce and verifier of a sign-in started here.
    if (requestId === null) throw new Forbidden(`sign-in with ${this.displayName} starts on the Tessera sign-in page`);
    const checks = JSON.parse(requestId) as PendingChecks;
    const configuration = await this.provider();
    const callback = new URL(this.redirectUri);
    for (const name of ['code', 'state', 'iss', 'error', 'error_description', 'session_state']) {
      const value = params[name];
      if (typeof value === 'string') callback.searchParams.set(name, value);
    }
    const tokens = await this.upstream(() =>
      client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: checks.verifier,
        expectedNonce: checks.nonce,
        expectedState: typeof params.state === 'string' ? params.state : client.skipStateCheck,
        idTokenExpected: true,
      }),
    );
    const claims = await this.claimsOf(configuration, tokens);
    const identity = identityFromClaims(this.config, claims);
    await this.grants.keep(identity.username, tokens.refresh_token);
    return identity;
  }

  private async claimsOf(configuration: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<Claims> {
    const idToken = tokens.claims();
    if (!idToken) throw new Forbidden(`${this.displayName} sent no ID token`);
    if (!this.config.userinfo) return { ...idToken };
    const userinfo = await this.upstream(() => client.fetchUserInfo(configuration, tokens.access_token, idToken.sub));
    return { ...idToken, ...userinfo };
  }

  /**
   * Runs a request to the provider: unreachable or failing (5xx) is `TemporarilyUnavailable`;
   * any answer openid-client refuses (bad signature, issuer, audience, nonce, expiry; an OAuth
   * error) is `Forbidden` naming the check, never carrying a token.
   */
  private async upstream<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw this.classify(err);
    }
  }

  private classify(err: unknown): Error {
    const status = (err as { status?: number; cause?: { status?: number } }).status ?? (err as { cause?: { status?: number } }).cause?.status;
    const name = (err as Error)?.name;
    if (err instanceof TypeError || name === 'TimeoutError' || name === 'AbortError' || (status !== undefined && status >= 500)) {
      this.log.warn(`the provider did not answer: ${(err as Error).message}`);
      return this.unavailable();
    }
    if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
      return new Forbidden(`${this.displayName} refused the sign-in (${/^[\w.-]{1,64}$/.test(err.error) ? err.error : 'error'})`);
    }
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error && cause.message !== (err as Error).message ? `: ${cause.message}` : '';
    return new Forbidden(`the answer of ${this.displayName} was refused: ${(err as Error).message}${detail}`);
  }

  async check(): Promise<void> {
    await this.provider();
  }

  /**
   * Asks the provider about a known user with their refresh token: 'unknown' without one,
   * null when the provider refuses it (or the refreshed claims no longer pass the admission
   * rules), else the identity from the refreshed claims.
   */
  async lookup(username: string): Promise<Identity | null | 'unknown'> {
    const refreshToken = await this.grants.find(username);
    if (!refreshToken) return 'unknown';
    const configuration = await this.provider();
    let tokens;
    try {
      tokens = await client.refreshTokenGrant(configuration, refreshToken);
    } catch (err) {
      // invalid_grant is the provider's word about this user (deleted, disabled, consent or
      // session revoked). Any other refusal (invalid_client after a secret rotation, a server
      // error) says nothing about the user: the round stops rather than disable everyone.
      if (err instanceof client.ResponseBodyError && err.error === 'invalid_grant') {
        await this.grants.forget(username);
        return null;
      }
      const refused = this.classify(err);
      if (!(refused instanceof TemporarilyUnavailable)) this.log.warn(`re-validation could not use refresh tokens: ${refused.message}`);
      throw this.unavailable();
    }
    if (tokens.refresh_token) await this.grants.keep(username, tokens.refresh_token);
    // Not every provider sends a new ID token on refresh: then the grant alone says "still valid".
    if (!tokens.id_token && !this.config.userinfo) return 'unknown';
    try {
      const claims = tokens.id_token ? await this.claimsOf(configuration, tokens) : await this.upstream(() => client.fetchUserInfo(configuration, tokens.access_token, client.skipSubjectCheck));
      const identity = identityFromClaims(this.config, claims);
      return identity.username === username ? identity : null;
    } catch (err) {
      if (err instanceof TemporarilyUnavailable) throw err;
      return null;
    }
  }
}
