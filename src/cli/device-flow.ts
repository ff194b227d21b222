/**
 * `tessera login --sso`: the OAuth 2.0 Device Authorization Grant (RFC 8628) as the public client
 * `tessera-cli`. The gateway's OpenID Provider advertises the endpoints in its discovery
 * document; until it does, the command says so instead of guessing URLs. The CLI prints the
 * verification URL and code and never opens a browser itself: it may run over SSH.
 */
import { AuthError, CliError } from './errors.js';
import { networkError, withDeadline } from './network.js';

export const CLI_CLIENT_ID = 'tessera-cli';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** `offline_access` asks for a refresh token, so the CLI stays logged in like a password login. */
const DEFAULT_SCOPE = 'openid profile offline_access';

export interface DeviceEndpoints {
  device_authorization_endpoint: string;
  token_endpoint: string;
}

/** RFC 8628 §3.2. */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** RFC 6749 §5.1. */
export interface OAuthTokens {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
}

export interface PollOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  clientId?: string;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function postForm(fetchFn: typeof fetch, url: string, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  let body: Record<string, unknown>;
  try {
    res = await fetchFn(url, withDeadline({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'tessera-cli' },
      body: new URLSearchParams(fields).toString(),
    }));
    body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  } catch (err) {
    throw networkError(url, err);
  }
  return { status: res.status, body: body && typeof body === 'object' ? body : {} };
}

/** The device endpoints from `/.well-known/openid-configuration`, or a clear refusal. */
export async function discoverDeviceEndpoints(server: string, fetchFn: typeof fetch = fetch): Promise<DeviceEndpoints> {
  const url = `${server}/.well-known/openid-configuration`;
  let metadata: Partial<DeviceEndpoints> = {};
  try {
    const res = await fetchFn(url, withDeadline({ headers: { accept: 'application/json' } }));
    if (res.ok) metadata = ((await res.json().catch(() => ({}))) ?? {}) as Partial<DeviceEndpoints>;
  } catch (err) {
    throw networkError(server, err);
  }
  if (typeof metadata.device_authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string') {
    throw new CliError(`SSO login is not supported by this gateway (${server} advertises no device_authorization_endpoint); log in with a password or with --token`);
  }
  return { device_authorization_endpoint: metadata.device_authorization_endpoint, token_endpoint: metadata.token_endpoint };
}

/** RFC 8628 §3.1: ask for a device code and the user code to show. */
export async function requestDeviceCode(endpoints: DeviceEndpoints, options: { fetch?: typeof fetch; clientId?: string; scope?: string } = {}): Promise<DeviceAuthorization> {
  const { status, body } = await postForm(options.fetch ?? fetch, endpoints.device_authorization_endpoint, {
    client_id: options.clientId ?? CLI_CLIENT_ID,
    scope: options.scope ?? DEFAULT_SCOPE,
  });
  if (status !== 200 || typeof body.device_code !== 'string' || typeof body.user_code !== 'string' || typeof body.verification_uri !== 'string') {
    throw new CliError(`the gateway refused to start a device login: ${String(body.error_description ?? body.error ?? `HTTP ${status}`)}`);
  }
  return body as unknown as DeviceAuthorization;
}

/**
 * RFC 8628 §3.4–3.5: poll the token endpoint every `interval` seconds (default 5) until the user
 * approves or denies, or the code expires. `slow_down` adds 5 seconds for this and every later
 * poll.
 */
export async function pollForTokens(tokenEndpoint: string, authorization: DeviceAuthorization, options: PollOptions = {}): Promise<OAuthTokens> {
  const fetchFn = options.fetch ?? fetch;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  let interval = (authorization.interval ?? 5) * 1000;
  const deadline = now() + authorization.expires_in * 1000;
  const expired = () => new AuthError('the code expired before it was approved: run tessera login --sso again');

  for (;;) {
    await sleep(interval);
    if (now() >= deadline) throw expired();
    const { status, body } = await postForm(fetchFn, tokenEndpoint, {
      grant_type: DEVICE_CODE_GRANT,
      device_code: authorization.device_code,
      client_id: options.clientId ?? CLI_CLIENT_ID,
    });
    if (status === 200 && typeof body.access_token === 'string') return body as unknown as OAuthTokens;
    switch (body.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5000;
        continue;
      case 'expired_token':
        throw expired();
      case 'access_denied':
        throw new AuthError('the login was denied in the browser');
      default:
        throw new CliError(`device login failed: ${String(body.error_description ?? body.error ?? `HTTP ${status}`)}`);
    }
  }
}

/** RFC 6749 §6 at the discovered token endpoint. Null when the refresh token is refused. */
export async function refreshDeviceTokens(
  credential: { token_endpoint: string; client_id: string; refresh_token?: string },
  fetchFn: typeof fetch = fetch,
): Promise<OAuthTokens | null> {
  if (!credential.refresh_token) return null;
  const { status, body } = await postForm(fetchFn, credential.token_endpoint, {
    grant_type: 'refresh_token',
    refresh_token: credential.refresh_token,
    client_id: credential.client_id,
  });
  if (status === 200 && typeof body.access_token === 'string') return body as unknown as OAuthTokens;
  if (status === 400 || status === 401) return null;
  throw new CliError(`refreshing the login failed: ${String(body.error_description ?? body.error ?? `HTTP ${status}`)}`);
}
