/**
 * The registry of OAuth clients that call introspection and revocation (downstream APIs and
 * their resource servers), and their authentication: `client_secret_basic` and
 * `client_secret_post` (RFC 6749 §2.3.1).
 *
 * Secrets are high-entropy, so a plain secret is compared in constant time with no hashing. A
 * secret configured as an scrypt hash is verified once per process and the verified value
 * remembered, so the hot path never pays for scrypt.
 *
 * Until that first success, each wrong secret would cost one scrypt (~200 ms of a libuv pool
 * thread, where Node runs it, off the event loop) to anyone who can reach the endpoint. So the
 * cost a wrong secret can cause is bounded: at most `maxConcurrentHashes` scrypt runs at once
 * in the process, and at most `failuresPerWindow` failed ones per client per `windowMs`; past
 * either, the answer is 429 with Retry-After and no hashing. The price: while someone hammers a
 * client id, that client's own first sign-in after a restart may wait for the window.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ClientConfig } from '../config/schema.js';
import { InvalidClient, InvalidRequest, TooManyRequests } from '../errors.js';
import { verifyPassword } from '../identity/passwords.js';

export interface ClientCredentials {
  /** From `Authorization: Basic` (already form-url-decoded) */
  basic?: { id: string; secret: string };
  /** From the form body */
  post?: { id?: unknown; secret?: unknown };
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  // Compare equal-length buffers either way so the time does not depend on where they differ.
  return timingSafeEqual(left, left.length === right.length ? right : left) && left.length === right.length;
}

export interface HashLimits {
  maxConcurrentHashes: number;
  failuresPerWindow: number;
  windowMs: number;
  now: () => number;
}

const DEFAULT_LIMITS: HashLimits = { maxConcurrentHashes: 2, failuresPerWindow: 5, windowMs: 60_000, now: Date.now };

export class ClientRegistry {
  private readonly clients: Map<string, ClientConfig>;
  /** client id → secret already verified against its scrypt hash. */
  private readonly verified = new Map<string, string>();
  private readonly limits: HashLimits;
  private hashing = 0;
  /** client id → failed scrypt verifications in the current window. */
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(clients: ClientConfig[], limits: Partial<HashLimits> = {}) {
    this.clients = new Map(clients.map((c) => [c.id, c]));
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** One bounded scrypt verification of an unverified secret. */
  private async verifyHash(client: ClientConfig, secret: string): Promise<boolean> {
    const now = this.limits.now();
    const failed = this.failures.get(client.id);
    if (failed && failed.resetAt > now && failed.count >= this.limits.failuresPerWindow) {
      throw new TooManyRequests((failed.resetAt - now) / 1000, 'too many failed client authentications, try again later');
    }
    if (this.hashing >= this.limits.maxConcurrentHashes) throw new TooManyRequests(1, 'too many client authentications at once, try again later');
    this.hashing++;
    try {
      if (await verifyPassword(secret, client.secretHash!)) return true;
    } finally {
      this.hashing--;
    }
    const current = failed && failed.resetAt > now ? failed : { count: 0, resetAt: now + this.limits.windowMs };
    current.count++;
    this.failures.set(client.id, current);
    return false;
  }

  /** Synchronous unless the secret is an scrypt hash not yet verified in this process. */
  private secretMatches(client: ClientConfig, secret: string): boolean | Promise<boolean> {
    if (client.secret !== undefined) return constantTimeEqual(secret, client.secret);
    // Public clients have no secret, so they cannot authenticate here (RFC 7662 §2.1).
    if (client.secretHash === undefined) return false;
    const known = this.verified.get(client.id);
    if (known !== undefined) return constantTimeEqual(secret, known);
    if (secret.length > 512) return false;
    return this.verifyHash(client, secret).then((ok) => {
      if (ok) this.verified.set(client.id, secret);
      return ok;
    });
  }

  /** Resolves to the authenticated client or rejects with InvalidClient (401). */
  async authenticate(credentials: ClientCredentials): Promise<ClientConfig> {
    return this.check(credentials);
  }

  /**
   * `authenticate` for the hot path: answers synchronously (the client, or a throw) whenever no
   * scrypt is needed, which is every call once a client's secret is known, so introspection
   * spends no promise on it; a promise only for a first scrypt verification.
   */
  check(credentials: ClientCredentials): ClientConfig | Promise<ClientConfig> {
    const { basic, post } = credentials;
    if (basic && post?.id !== undefined) throw new InvalidRequest('use one client authentication method, not two');
    let id: unknown;
    let secret: unknown;
    if (basic) ({ id, secret } = basic);
    else if (post) ({ id, secret } = post);
    if (typeof id !== 'string' || typeof secret !== 'string' || !id || !secret) throw new InvalidClient();
    const client = this.clients.get(id);
    if (!client) throw new InvalidClient();
    const matches = this.secretMatches(client, secret);
    const decide = (ok: boolean): ClientConfig => {
      if (!ok) throw new InvalidClient();
      return client;
    };
    return typeof matches === 'boolean' ? decide(matches) : matches.then(decide);
  }
}
