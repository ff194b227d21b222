/**
 * Password sign-in from a browser (the web sign-in page and the OIDC login step), with the
 * browser's device credentials (identity/devices.ts) in an HttpOnly cookie: presented with every
 * attempt, renewed after every success. A browser that signed in before is then a known device,
 * which failures sent from elsewhere cannot lock out.
 */
import type { Context } from 'koa';
import type { Services } from '../services.js';
import type { UserRecord } from '../store/records.js';
import { hostCookie } from './host-cookies.js';

const deviceCookie = (services: Services) => hostCookie(services, 'tessera_device');

export async function signInWithDevice(
  ctx: Context,
  services: Services,
  form: { username: string; password: string; source?: string },
): Promise<UserRecord> {
  const cookie = deviceCookie(services);
  const { user, device } = await services.login.signIn({ ...form, ip: ctx.ip, device: cookie.get(ctx) });
  cookie.set(ctx, device, services.config.auth.lockout.deviceTtl);
  return user;
}
