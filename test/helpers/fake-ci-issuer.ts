/**
 * A fake CI identity provider on loopback, like GitHub Actions' token.actions.githubusercontent.com:
 * OIDC discovery, a JWKS endpoint that counts its fetches and can be taken down, and jose-signed
 * job identity tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

export class FakeCiIssuer {
  /** Keys published at the JWKS endpoint. */
  published: SigningKey[] = [];
  jwksFetches = 0;
  /** When true the JWKS endpoint answers 503 after a long pause (down or hanging). */
  down = false;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.published = [await newSigningKey()];
    this.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/jwks` }));
      } else if (req.url === '/jwks') {
        this.jwksFetches++;
        if (this.down) {
          res.statusCode = 503;
          res.end('down');
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: this.published.map((k) => k.publicJwk) }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A job identity token: GitHub-Actions-like claims, overridable, signed with `key`. */
  async token(claims: Record<string, unknown>, options: { key?: SigningKey; now?: number; ttlSeconds?: number } = {}): Promise<string> {
    const key = options.key ?? this.published[0]!;
    const now = Math.floor((options.now ?? Date.now()) / 1000);
    return new SignJWT({ jti: randomUUID(), sub: 'repo:acme/models:ref:refs/heads/main', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer((claims.iss as string | undefined) ?? this.url)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (options.ttlSeconds ?? 300))
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An unsigned `alg: none` JWT (RFC 7519 §6), which must never be accepted. */
export function unsecuredToken(payload: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}
