/**
 * Cookies that belong to this host alone: the login CSRF token and the device credentials.
 *
 * Whenever the gateway's issuer is https they carry the `__Host-` prefix, which a browser accepts
 * only with Secure, Path=/ and no Domain: a sibling subdomain or a plain-http man in the middle
 * cannot plant or overwrite them (cookie tossing), which a double-submit CSRF token and a device
 * credential both rely on. The issuer decides, not the request, so a TLS-terminating proxy in
 * front of a gateway without `server.trustProxy` still gets the prefixed cookie.
 *
 * A plain-http issuer (local development) keeps the unprefixed name and no Secure flag: browsers
 * refuse `__Host-` and Secure cookies from http origins other than loopback, so the prefix would
 * make signing in impossible there.
 */
import type { Context } from 'koa';
import type { Services } from '../services.js';

export interface HostCookie {
  get(ctx: Context): string | undefined;
  set(ctx: Context, value: string, maxAgeMs?: number): void;
}

const issuerIsHttps = (services: Services): boolean => services.config.server.issuer?.startsWith('https:') ?? false;

/** `plainPath`: the path the cookie is scoped to without the prefix (with it, Path=/ is required). */
export function hostCookie(services: Services, baseName: string, plainPath = '/'): HostCookie {
  const https = issuerIsHttps(services);
  const name = https ? `__Host-${baseName}` : baseName;
  return {
    get: (ctx) => ctx.cookies.get(name),
    set(ctx, value, maxAgeMs) {
      // Koa refuses Secure cookies on a request it thinks is plain http; the issuer says it is not.
      if (https) ctx.cookies.secure = true;
      ctx.cookies.set(name, value, { httpOnly: true, sameSite: 'lax', secure: https, path: https ? '/' : plainPath, maxAge: maxAgeMs, overwrite: true });
    },
  };
}
