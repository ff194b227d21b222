/**
 * Reading credentials off a request: `Authorization: Bearer` (RFC 6750 §2.1) and
 * `Authorization: Basic` (RFC 7617), where the password may be a token.
 */
import type { Context } from 'koa';
import { InvalidRequest } from '../errors.js';

export type Presented =
  | { scheme: 'bearer'; token: string }
  | { scheme: 'basic'; username: string; password: string }
  | null;

/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function readAuthorization(ctx: Context): Presented {
  const header = ctx.get('Authorization');
  if (!header) return null;
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const value = space < 0 ? '' : header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    if (!B64TOKEN.test(value)) throw new InvalidRequest('malformed Bearer credentials');
    return { scheme: 'bearer', token: value };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!B64TOKEN.test(value) || colon < 0) throw new InvalidRequest('malformed Basic credentials');
    return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new InvalidRequest(`unsupported authorization scheme: ${scheme.slice(0, 20)}`);
}

/** RFC 6749 §2.3.1: client ids and secrets are form-url-encoded inside Basic. */
export function formDecode(value: string): string {
  // Most ids and secrets have nothing to decode.
  if (!/[%+]/.test(value)) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('malformed client credentials');
  }
}
