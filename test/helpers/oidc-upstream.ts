/**
 * An upstream OpenID Provider for tests: node-oidc-provider, standalone on `localhost` (not
 * 127.0.0.1, so its cookies never mix with the gateway's, which also runs oidc-provider), with
 * its built-in development login and consent pages. Nobody here wrote its protocol side: the
 * test only decides who exists and which groups they have. Removing a user makes the provider
 * refuse their refresh tokens, as a real IdP does for a deleted account.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './redis-server.js';

export interface UpstreamUser {
  name?: string;
  email?: string;
  email_verified?: boolean;
  groups?: string[];
  hd?: string;
}

export interface Upstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** People who can sign in, by login name (their `sub` and `preferred_username`). */
  users: Map<string, UpstreamUser>;
  close(): Promise<void>;
}

export async function startUpstream(options: { redirectUris: string[]; clientId?: string; clientSecret?: string }): Promise<Upstream> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientId = options.clientId ?? 'tessera';
  const clientSecret = options.clientSecret ?? 'upstream-client-secret-0123456789abcdef';
  const users = new Map<string, UpstreamUser>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'upstream-1', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['upstream-cookie-key-0123456789abcdef'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified', 'hd'], groups: ['groups'] },
    // The requested claims go in the ID token (the default puts them only in userinfo once an
    // access token is issued).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    // Every sign-in gets a refresh token (a real IdP needs `offline_access` or a setting for it).
    issueRefreshToken: async () => true,
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...users.get(id) }) };
    },
  });
  // `localhost` may resolve to either loopback address: listen on both, and on nothing else.
  const servers: Server[] = [];
  for (const host of ['127.0.0.1', '::1']) {
    const server = createServer(provider.callback());
    await new Promise<void>((resolve) => server.listen(port, host, () => resolve()).once('error', () => resolve()));
    servers.push(server);
  }
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
