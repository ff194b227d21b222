/**
 * What the store benches and measurement scripts share (bench/scale.mjs,
 * scripts/measure-encoding.mjs, scripts/measure-check-script.mjs): sample users and tokens shaped
 * as the gateway makes them, Redis INFO fields, a bounded-parallel loop and a median.
 */
import { randomBytes } from 'node:crypto';

export const DAY = 86_400_000;

export const base62 = (n) => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n).padEnd(n, 'x');
/** A random SHA-256 in hex, as a token's stored hash. */
export const hex = () => randomBytes(32).toString('hex');
export const median = (xs) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[Math.floor(xs.length / 2)];

/** A number from `INFO section` (e.g. `memory`, `used_memory`). */
export const redisInfo = async (admin, section, field) => Number((await admin.info(section)).match(new RegExp(`^${field}:(\\S+)`, 'm'))[1]);

export const sampleUser = (now, id = base62(12)) => ({ id, username: `u-${id}`, displayName: 'Bench', email: 'b@example.org', role: 'normal', enabled: true, source: 'local', groups: [], createdAt: now, updatedAt: now, sessionsNotBefore: 0 });

export const sampleToken = (userId, now, over = {}) => ({ id: base62(16), userId, name: 'bench token', description: '', scope: '', expiration: 'hard', createdAt: now, expiresAt: now + 30 * DAY, createdBy: 'bench', hash: hex(), ...over });

/** Runs `fn(i)` for i < n with `width` in flight. */
export async function parallel(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}
