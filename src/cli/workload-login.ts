/**
 * `tessera login --oidc-token-file F | --oidc-token-env V`, for use inside a CI job or pod: trades
 * the job's platform-signed identity token for a short-lived Tessera token (RFC 8693 token
 * exchange at the gateway's token endpoint). No secret is stored in the pipeline; the token it
 * gets expires with the job and cannot be refreshed.
 */
import { readFileSync } from 'node:fs';
import { ApiError, UsageError } from './errors.js';
import { networkError, withDeadline } from './network.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

export interface ExchangedToken {
  access_token: string;
  expires_in: number;
  scope: string;
}

/** The identity token from a file (Kubernetes projected volume, GitLab `id_tokens` written out) or a variable. */
export function readIdentityToken(source: { file?: string; env?: string }, env: NodeJS.ProcessEnv): string {
  let token: string | undefined;
  if (source.file !== undefined) {
    try {
      token = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the identity token file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  } else if (source.env !== undefined) {
    token = env[source.env];
    if (token === undefined) throw new UsageError(`the environment variable ${source.env} is not set`);
  }
  token = token?.trim();
  if (!token) throw new UsageError('the identity token is empty');
  return token;
}

export async function exchangeIdentityToken(server: string, idToken: string, scope?: string): Promise<ExchangedToken> {
  const url = `${server.replace(/\/$/, '')}/oauth2/token`;
  const fields: Record<string, string> = { grant_type: TOKEN_EXCHANGE, subject_token: idToken, subject_token_type: ID_TOKEN, ...(scope ? { scope } : {}) };
  let res: Response;
  let body: Record<string, unknown>;
  try {
    res = await fetch(url, withDeadline({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'tessera-cli' },
      body: new URLSearchParams(fields).toString(),
    }));
    body = ((await res.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw networkError(url, err);
  }
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new ApiError(res.status, String(body.error ?? 'error'), `token exchange refused: ${String(body.error_description ?? body.error ?? `HTTP ${res.status}`)}`);
  }
  return { access_token: body.access_token, expires_in: Number(body.expires_in ?? 0), scope: String(body.scope ?? '') };
}
