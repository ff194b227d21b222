/**
 * OAuth client authentication at Tessera's own OAuth endpoints (introspection, revocation, the
 * workload token exchange): `client_secret_basic` or `client_secret_post`, never a bearer token.
 * A failure is `invalid_client` (401, rendered with `WWW-Authenticate: Basic`) and an audit event
 * naming the client id that was claimed; a success makes the client the request's actor.
 */
import type { Context } from 'koa';
import { setRequestActor } from '../audit/context.js';
import type { ClientConfig } from '../config/schema.js';
import { InvalidClient } from '../errors.js';
import type { Services } from '../services.js';
import type { Fields } from './body.js';
import { requestOf } from './request-context.js';
import { formDecode, readAuthorization } from './credentials.js';

/**
 * Authenticates the client that the request presents. With `optional`, a request that presents
 * no client credentials at all passes as `undefined` (the token exchange, where a CI job has
 * none); credentials that are presented must always be valid.
 *
 * Answers without a promise when the registry can (a known secret, the hot path's case): the
 * introspection endpoint then awaits nothing for it. Failures are thrown or rejected, either
 * way after the audit event.
 */
export function authenticateClient(services: Services, ctx: Context, body: Fields): ClientConfig | Promise<ClientConfig>;
export function authenticateClient(services: Services, ctx: Context, body: Fields, options: { optional: true }): ClientConfig | undefined | Promise<ClientConfig | undefined>;
export function authenticateClient(services: Services, ctx: Context, body: Fields, options: { optional?: boolean } = {}): ClientConfig | undefined | Promise<ClientConfig | undefined> {
  let presented;
  try {
    presented = readAuthorization(ctx);
  } catch {
    throw new InvalidClient('malformed Authorization header');
  }
  if (presented?.scheme === 'bearer') throw new InvalidClient('authenticate the client with Basic or client_secret_post');
  if (options.optional && !presented && body.client_secret === undefined) return undefined;
  const succeeded = (caller: ClientConfig): ClientConfig => {
    setRequestActor({ credential: 'client', clientId: caller.id }, requestOf(ctx));
    return caller;
  };
  const failed = async (err: unknown): Promise<never> => {
    if (err instanceof InvalidClient) {
      const claimed = presented?.scheme === 'basic' ? safeFormDecode(presented.username) : typeof body.client_id === 'string' ? body.client_id : undefined;
      await services.audit.record({ type: 'client.auth_failed', outcome: 'failed', reason: 'invalid_client', actor: { credential: 'anonymous' }, target: { clientId: claimed?.slice(0, 200) } }, requestOf(ctx));
    }
    throw err;
  };
  let outcome: ClientConfig | Promise<ClientConfig>;
  try {
    outcome = services.clients.check({
      basic: presented ? { id: formDecode(presented.username), secret: formDecode(presented.password) } : undefined,
      post: body.client_id !== undefined ? { id: body.client_id, secret: body.client_secret } : undefined,
    });
  } catch (err) {
    return failed(err);
  }
  return outcome instanceof Promise ? outcome.then(succeeded, failed) : succeeded(outcome);
}

/** The claimed id for the audit event: undecodable ones are kept as sent. */
function safeFormDecode(value: string): string {
  try {
    return formDecode(value);
  } catch {
    return value;
  }
}
