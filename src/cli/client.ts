/**
 * The gateway's REST API as the CLI sees it: JSON over global fetch, the bearer credential
 * attached, and the login kept alive. An access token that is expired by this machine's clock, or
 * that the gateway answers 401 `invalid_token` for, is refreshed once with the refresh token and
 * the call retried; a refused refresh means the login is over ("session expired").
 */
import { ApiError, AuthError, CliError } from './errors.js';
import { refreshDeviceTokens } from './device-flow.js';
import { networkError, withDeadline } from './network.js';
import type { Credential, CredentialStore, DeviceCredential, SessionCredential } from './credentials.js';

/** What `POST /api/v1/login` and `/login/refresh` answer. */
export interface LoginTokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  refresh_expires_in: number;
  /** Device credentials (POST /api/v1/login only), kept in the credentials file. */
  device_token?: string;
}

export interface ClientOptions {
  server: string;
  store: CredentialStore;
  /** `TESSERA_TOKEN`: when set, used instead of anything stored, and never refreshed. */
  envToken?: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Receives one line per request with `--debug`. Never given a secret. */
  trace?: (line: string) => void;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
}

/** Refresh a little early: the request still has to reach the gateway before expiry. */
const EXPIRY_MARGIN_MS = 30_000;

const SESSION_EXPIRED = 'session expired: run tessera login';

type Refreshable = SessionCredential | DeviceCredential;
const refreshable = (c: Credential): c is Refreshable => c.kind === 'session' || (c.kind === 'device' && Boolean(c.refresh_token));
const bearerOf = (c: Credential) => (c.kind === 'pat' ? c.token : c.access_token);

export function sessionFromTokens(username: string, tokens: LoginTokens, now: number): SessionCredential {
  return {
    kind: 'session',
    username,
    access_token: tokens.access_token,
    access_expires_at: new Date(now + tokens.expires_in * 1000).toISOString(),
    refresh_token: tokens.refresh_token,
    refresh_expires_at: new Date(now + tokens.refresh_expires_in * 1000).toISOString(),
  };
}

export class ApiClient {
  readonly server: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: ClientOptions) {
    this.server = options.server;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  /** A request with an explicit bearer (or none): login, logout, checking a token. */
  async call<T>(method: string, path: string, options: RequestOptions & { bearer?: string } = {}): Promise<T> {
    const res = await this.send(method, path, options, options.bearer);
    if (res.status >= 400) throw this.failure(res);
    return res.body as T;
  }

  /** A request as the logged-in user, refreshing the login when needed. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (this.options.envToken) {
      const res = await this.send(method, path, options, this.options.envToken);
      if (res.status === 401) throw new AuthError(`the token in TESSERA_TOKEN is invalid, expired or revoked (${this.server})`);
      if (res.status >= 400) throw this.failure(res);
      return res.body as T;
    }

    let credential = this.options.store.get(this.server);
    if (!credential) throw new AuthError(`not logged in to ${this.server}: run tessera login`);
    if (refreshable(credential) && Date.parse(credential.access_expires_at) - EXPIRY_MARGIN_MS <= this.now()) {
      credential = await this.refresh(credential);
    }
    let res = await this.send(method, path, options, bearerOf(credential));
    // Safe to repeat even for POST: a 401 means the gateway refused before doing anything.
    if (res.status === 401 && errorCode(res.body) === 'invalid_token' && refreshable(credential)) {
      credential = await this.refresh(credential);
      res = await this.send(method, path, options, bearerOf(credential));
    }
    if (res.status === 401) {
      throw new AuthError(credential.kind === 'pat' ? `the stored token for ${this.server} is invalid, expired or revoked: run tessera login` : SESSION_EXPIRED);
    }
    if (res.status >= 400) throw this.failure(res);
    return res.body as T;
  }

  /** The credential stored for this server, with a fresh access token. */
  private async refresh(stale: Refreshable): Promise<Credential> {
    if (stale.kind === 'session' && Date.parse(stale.refresh_expires_at) <= this.now()) throw new AuthError(SESSION_EXPIRED);
    const store = this.options.store;
    return store.locked(async () => {
      const current = store.get(this.server);
      if (!current) throw new AuthError(SESSION_EXPIRED);
      // Another command refreshed (or logged in) while we waited for the lock: use its tokens.
      if (!refreshable(current) || current.refresh_token !== stale.refresh_token) return current;
      const next = current.kind === 'session' ? await this.refreshSession(current) : await this.refreshDevice(current);
      store.put(this.server, next);
      return next;
    });
  }

  private async refreshSession(current: SessionCredential): Promise<SessionCredential> {
    this.options.trace?.('refreshing the access token');
    const res = await this.send('POST', '/api/v1/login/refresh', { body: { refresh_token: current.refresh_token } });
    if (res.status === 400 || res.status === 401) throw new AuthError(SESSION_EXPIRED);
    if (res.status >= 400) throw this.failure(res);
    return sessionFromTokens(current.username, res.body as LoginTokens, this.now());
  }

  private async refreshDevice(current: DeviceCredential): Promise<DeviceCredential> {
    this.options.trace?.(`refreshing the access token at ${current.token_endpoint}`);
    const tokens = await refreshDeviceTokens(current, this.fetch);
    if (!tokens) throw new AuthError(SESSION_EXPIRED);
    return {
      ...current,
      access_token: tokens.access_token,
      access_expires_at: new Date(this.now() + (tokens.expires_in ?? 300) * 1000).toISOString(),
      refresh_token: tokens.refresh_token ?? current.refresh_token,
    };
  }

  private async send(method: string, path: string, options: RequestOptions, bearer?: string): Promise<{ status: number; body: unknown }> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tessera-cli' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    this.options.trace?.(`> ${method} ${url.href}`);
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(url, withDeadline({ method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }));
      text = await res.text();
    } catch (err) {
      throw networkError(this.server, err);
    }
    this.options.trace?.(`< ${res.status} (${Date.now() - started} ms)`);
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok) throw new CliError(`${this.server} answered ${method} ${path} with something that is not JSON: is it a Tessera gateway?`);
        body = text;
      }
    }
    return { status: res.status, body };
  }

  private failure(res: { status: number; body: unknown }): ApiError {
    const body = (res.body && typeof res.body === 'object' ? res.body : {}) as { error?: string; error_description?: string };
    return new ApiError(res.status, body.error ?? `http_${res.status}`, body.error_description ?? `the gateway answered HTTP ${res.status}`);
  }
}

function errorCode(body: unknown): string | undefined {
  return body && typeof body === 'object' ? (body as { error?: string }).error : undefined;
}
