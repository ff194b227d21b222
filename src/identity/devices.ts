/**
 * Known devices (OWASP's "device cookie" defence against aimed lockout). A browser or CLI that
 * signed in to an account successfully gets a device credential for that account: a JWT (HS256)
 * naming the account (`sub`, its `usernameKey`) and a random device id (`jti`). It proves only
 * that this client once knew the password; it grants no access by itself. LoginThrottle counts
 * the failures of a known device against that device alone, so failures sent from anywhere else
 * cannot lock the owner's own client out.
 *
 * Credentials are signed with a key derived (HKDF) from the gateway's cookie keys: the newest
 * signs, every configured one verifies, so rotating cookie keys keeps devices known for as long
 * as the old key stays listed. A client may hold credentials for a few accounts (a shared
 * browser); they travel as one value, joined by `~`.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import { usernameKey } from '../store/usernames.js';

const AUDIENCE = 'tessera-device';
/** Accounts one client keeps credentials for; the oldest is dropped past this. */
const MAX_ACCOUNTS = 5;
/** Longer values are not credentials this gateway issued; they are ignored without parsing. */
const MAX_LENGTH = 4096;

interface Verified {
  credential: string;
  account: string;
  deviceId: string;
}

export class DeviceTrust {
  constructor(
    /** The gateway's cookie keys, newest first. */
    private readonly cookieKeys: () => Promise<string[]>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** One key per cookie key, for this purpose only: a device credential is never a valid cookie signature. */
  private async signingKeys(): Promise<Uint8Array[]> {
    return (await this.cookieKeys()).map((key) => new Uint8Array(hkdfSync('sha256', key, '', 'tessera device credential', 32)));
  }

  /**
   * The device id of a valid credential for `username` among those presented, or null (none,
   * forged, expired, or for other accounts only).
   */
  async recognise(presented: string | undefined, username: string): Promise<string | null> {
    const account = usernameKey(username);
    return (await this.verify(presented)).find((v) => v.account === account)?.deviceId ?? null;
  }

  /**
   * What the client keeps after signing in as `username`: a fresh credential for this account
   * (new device id, new expiry), then the still-valid ones it holds for other accounts.
   */
  async remember(presented: string | undefined, username: string): Promise<string> {
    const account = usernameKey(username);
    const others = (await this.verify(presented)).filter((v) => v.account !== account).slice(0, MAX_ACCOUNTS - 1);
    const now = Math.floor(this.clock() / 1000);
    const [key] = await this.signingKeys();
    const fresh = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setAudience(AUDIENCE)
      .setSubject(account)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt(now)
      .setExpirationTime(now + Math.floor(this.ttlMs / 1000))
      .sign(key!);
    return [fresh, ...others.map((v) => v.credential)].join('~');
  }

  private async verify(presented: string | undefined): Promise<Verified[]> {
    if (!presented || presented.length > MAX_LENGTH) return [];
    const keys = await this.signingKeys();
    const currentDate = new Date(this.clock());
    const verified: Verified[] = [];
    for (const credential of presented.split('~').slice(0, MAX_ACCOUNTS)) {
      for (const key of keys) {
        try {
          const { payload } = await jwtVerify(credential, key, { audience: AUDIENCE, algorithms: ['HS256'], currentDate, requiredClaims: ['sub', 'jti', 'exp'] });
          verified.push({ credential, account: payload.sub!, deviceId: payload.jti! });
          break;
        } catch {
          // Not signed with this key, expired or malformed: try the next key, then ignore it.
        }
      }
    }
    return verified;
  }
}
