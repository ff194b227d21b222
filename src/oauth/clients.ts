/**
 * The registry of OAuth clients that call introspection and revocation (downstream APIs and
 * their resource servers), and their authentication: `client_secret_basic` and
 * `client_secret_post` (RFC 6749 §2.3.1).
 *
 * Secrets are high-entropy, so a plain secret is compared in constant time with no hashing. A
 * secret configured as an scrypt hash is verified once per process and the verified value
 * remembered, so the hot path never pays for scrypt.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ClientConfig } from '../config/schema.js';
import { InvalidClient, InvalidRequest } from '../errors.js';
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

export class ClientRegistry {
  private readonly clients: Map<string, ClientConfig>;
  /** client id → secret already verified against its scrypt hash. */
  private readonly verified = new Map<string, string>();

  constructor(clients: ClientConfig[]) {
    this.clients = new Map(clients.map((c) => [c.id, c]));
  }

  private async secretMatches(client: ClientConfig, secret: string): Promise<boolean> {
    if (client.secret !== undefined) return constantTimeEqual(secret, client.secret);
    // Public clients have no secret, so they cannot authenticate here (RFC 7662 §2.1).
    if (client.secretHash === undefined) return false;
    const known = this.verified.get(client.id);
    if (known !== undefined) return constantTimeEqual(secret, known);
    if (secret.length > 512 || !(await verifyPassword(secret, client.secretHash!))) return false;
    this.verified.set(client.id, secret);
    return true;
  }

  /** Returns the authenticated client or throws InvalidClient (401). */
  async authenticate(credentials: ClientCredentials): Promise<ClientConfig> {
    const { basic, post } = credentials;
    if (basic && post?.id !== undefined) throw new InvalidRequest('use one client authentication method, not two');
    let id: unknown;
    let secret: unknown;
    if (basic) ({ id, secret } = basic);
    else if (post) ({ id, secret } = post);
    if (typeof id !== 'string' || typeof secret !== 'string' || !id || !secret) throw new InvalidClient();
    const client = this.clients.get(id);
    if (!client || !(await this.secretMatches(client, secret))) throw new InvalidClient();
    return client;
  }
}
