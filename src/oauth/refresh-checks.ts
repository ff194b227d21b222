/**
 * Checks on a refresh-token request that must run before oidc-provider consumes the token.
 * oidc-provider rotates (consumes) the refresh token first and resolves the `resource` (RFC 8707)
 * afterwards, so one request naming a wrong resource would use up the token and, on the retry,
 * revoke the whole grant as a reuse: one bad request logging the user out. Here an unknown
 * resource, or one the grant does not hold, is refused with `invalid_target` and the token is
 * left as it was.
 */
import type { TesseraConfig } from '../config/schema.js';
import { InvalidTarget } from '../errors.js';
import type { Store } from '../store/store.js';
import { ClientPolicy, requestedScopes } from './client-policy.js';

/** The part of the store this uses: the refresh token and grant being checked. */
export type RefreshCheckStore = Pick<Store, 'providerFind'>;

export async function checkRefreshTarget(store: RefreshCheckStore, config: TesseraConfig, form: URLSearchParams): Promise<void> {
  const wanted = form.getAll('resource');
  if (form.get('grant_type') !== 'refresh_token' || wanted.length === 0) return;
  const known = new Set(config.resources.map((r) => r.indicator));
  const unknown = wanted.find((r) => !known.has(r));
  if (unknown !== undefined) throw new InvalidTarget(`unknown resource ${unknown}`);
  const token = form.get('refresh_token') ?? '';
  if (!token || token.length > 512) return; // the provider answers invalid_grant
  const refresh = await store.providerFind('RefreshToken', token);
  const grant = typeof refresh?.grantId === 'string' ? await store.providerFind('Grant', refresh.grantId) : null;
  if (!grant) return; // unknown or revoked: the provider answers invalid_grant, the same as always
  const granted = (grant.resources ?? {}) as Record<string, unknown>;
  const missing = wanted.find((r) => !Object.hasOwn(granted, r));
  if (missing !== undefined) throw new InvalidTarget(`the grant does not include resource ${missing}`);
  // The client's allow-list may have shrunk since the grant: refuse before the token is used up.
  const policy = new ClientPolicy(config.clients);
  const clientId = typeof refresh?.clientId === 'string' ? refresh.clientId : undefined;
  for (const indicator of wanted) policy.scopesFor(clientId, config.resources.find((r) => r.indicator === indicator)!, requestedScopes(form.get('scope')));
}
