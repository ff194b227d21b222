/**
 * The last line of defence: events are built from ids and names, but some values come from
 * clients (user agent, usernames typed at a login form, SAML NameIDs). Anything shaped like a
 * secret — a Tessera token, a JWT, an Authorization header value — is replaced before an event is
 * stored or logged, so a user who pastes a token into the username field does not put it in the
 * audit trail.
 */

const SECRET_SHAPES = [
  /\bts(?:r|a|rt)_[0-9A-Za-z]{20,}/g, // Tessera PATs and login tokens (tokens/format.ts)
  /\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g, // JWTs (id tokens, JWT access tokens)
  /\b(?:Bearer|Basic)\s+[\w\-.~+/]{8,}=*/gi, // Authorization header values
  /\bscrypt\$[^\s"]+/g, // password and client secret hashes
];

export const REDACTED = '[redacted]';

function redactString(value: string): string {
  let out = value;
  for (const shape of SECRET_SHAPES) out = out.replace(shape, REDACTED);
  // Control characters would let a client forge extra log lines.
  return out.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 512);
}

/** A deep copy of `value` with every string redacted. */
export function redact<T>(value: T): T {
  if (typeof value === 'string') return redactString(value) as T;
  if (Array.isArray(value)) return value.map(redact) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)])) as T;
  }
  return value;
}
