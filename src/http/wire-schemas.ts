/**
 * The shapes the REST API answers with, as zod schemas: the OpenAPI document's components
 * (`meta({ id })` names each one there). The presenters produce them; the type checks at the end
 * of this file fail the build when a presenter and its schema drift apart.
 */
import { z } from 'zod';
import type { presentToken, presentUser } from './presenters.js';
import type { PresentedSession } from './login-session-presenter.js';
import type { LoginTokens } from '../tokens/login-sessions.js';
import type { RevokedCredentials } from '../tokens/revocation.js';

const isoTime = z.string().describe('ISO 8601 time');

/** RFC 6749 §5.2: every error the gateway answers with. */
export const ErrorBody = z
  .object({
    error: z.string().describe('the OAuth error code: invalid_request, invalid_token, invalid_client, insufficient_scope, access_denied, not_found, conflict, too_many_requests, temporarily_unavailable, …'),
    error_description: z.string().describe('what went wrong, for a person'),
  })
  .meta({ id: 'Error' });

export const Token = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    user: z.string().describe('the owner\'s username'),
    user_source: z.string(),
    scopes: z.array(z.string()).describe('empty: the owner\'s full rights'),
    expiration: z.enum(['hard', 'sliding']),
    status: z.enum(['active', 'expired', 'revoked']),
    created_at: isoTime.nullable(),
    created_by: z.string(),
    created_with_token: z.string().nullable(),
    rotated_from: z.string().nullable(),
    expires_at: isoTime.nullable(),
    sliding_window: z.number().nullable().describe('seconds; sliding tokens only'),
    max_lifetime_at: isoTime.nullable(),
    last_used_at: isoTime.nullable(),
    last_used_ip: z.string().nullable(),
    revoked_at: isoTime.nullable(),
    revoked_by: z.string().nullable(),
  })
  .meta({ id: 'Token', description: 'A personal access token as stored: never its secret' });

export const CreatedToken = Token.extend({
  token: z.string().describe('the secret (tsr_…): shown in this response only'),
  evicted: z.array(z.string()).describe('ids revoked to stay within the per-user limit'),
  notice: z.string().optional(),
  warning: z.string(),
}).meta({ id: 'CreatedToken' });

export const TokenList = z
  .object({
    tokens: z.array(Token),
    next: z.string().optional().describe('cursor of the next page; absent on the last'),
  })
  .meta({ id: 'TokenList' });

export const User = z
  .object({
    id: z.string(),
    username: z.string(),
    display_name: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'normal']),
    enabled: z.boolean(),
    source: z.string().describe('local, or the id of an LDAP or SAML source'),
    groups: z.array(z.string()),
    token_creator: z.boolean(),
    created_at: isoTime.nullable(),
    updated_at: isoTime.nullable(),
  })
  .meta({ id: 'User' });

export const Session = z
  .object({
    id: z.string(),
    kind: z.enum(['api', 'browser', 'sso', 'oidc-client']).describe('api: POST /api/v1/login; browser: a web sign-in; sso: tessera login --sso; oidc-client: an application signed in through Tessera\'s OpenID Provider'),
    created_at: isoTime,
    last_refresh_at: isoTime.nullable(),
    expires_at: isoTime.nullable().describe('null: a provider grant without an end of its own (its tokens still expire)'),
    ip: z.string().nullable().describe('null for provider sign-ins'),
    user_agent: z.string().nullable(),
    source: z.string(),
    current: z.boolean().describe('the session the request itself comes with'),
    client_id: z.string().optional().describe('provider sign-ins: the OAuth client'),
    client_name: z.string().optional(),
    scopes: z.array(z.string()).optional().describe('provider sign-ins: the scopes granted'),
  })
  .meta({ id: 'Session' });

export const LoginPair = z
  .object({
    access_token: z.string().describe('tsa_…, for Authorization: Bearer'),
    refresh_token: z.string().describe('tsrt_…; each refresh returns a new one and retires this one'),
    token_type: z.literal('Bearer'),
    expires_in: z.number().describe('seconds'),
    refresh_expires_in: z.number().describe('seconds'),
  })
  .meta({ id: 'LoginTokens' });

export const RevokedCounts = z.object({
  tokens: z.number().describe('personal access tokens'),
  sessions: z.number().describe('login sessions and single sign-on sessions'),
  grants: z.number().describe('OpenID Provider grants'),
});

/** RFC 7662 §2.2; members beyond `active` only when active. */
export const Introspection = z
  .looseObject({
    active: z.boolean(),
    scope: z.string().optional(),
    client_id: z.string().optional(),
    username: z.string().optional(),
    token_type: z.string().optional(),
    exp: z.number().optional(),
    iat: z.number().optional(),
    sub: z.string().optional(),
    iss: z.string().optional(),
    jti: z.string().optional(),
    token_use: z.string().optional().describe('personal_access_token, login, refresh, or the provider\'s'),
    token_name: z.string().optional(),
    user_source: z.string().optional(),
  })
  .meta({ id: 'Introspection' });

// Compile-time: each presenter's output is its schema's type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const drift: [
  Same<ReturnType<typeof presentToken>, z.output<typeof Token>>,
  Same<ReturnType<typeof presentUser>, z.output<typeof User>>,
  Same<PresentedSession, z.output<typeof Session>>,
  Same<LoginTokens, z.output<typeof LoginPair>>,
  Same<RevokedCredentials, z.output<typeof RevokedCounts>>,
] = [true, true, true, true, true];
void drift;
