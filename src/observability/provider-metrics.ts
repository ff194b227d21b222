/**
 * Introspections of the OpenID Provider's own tokens (RFC 7662 through oidc-provider), counted
 * in the same series as Tessera's tokens with `kind="provider"`. oidc-provider answers through
 * `res` directly, so the answer is read inside its own middleware stack, where `ctx.body` is
 * still the object it is about to send.
 */
import type Provider from 'oidc-provider';
import type { Metrics } from './metrics.js';

export function meterProviderIntrospection(provider: Provider, metrics: Metrics): void {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'introspection') return;
    // Client errors (bad client authentication, malformed request) are not token checks.
    if (ctx.status >= 500) metrics.introspections.inc({ kind: 'provider', result: 'error' });
    else if (ctx.status === 200) {
      const active = (ctx.body as { active?: unknown } | undefined)?.active === true;
      metrics.introspections.inc({ kind: 'provider', result: active ? 'active' : 'inactive' });
    }
  });
}
