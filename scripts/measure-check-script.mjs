#!/usr/bin/env node
/**
 * Redis script time of the token check against its floor, on a throwaway redis-server (AOF on,
 * everysec, as the README recommends):
 *
 *   npm run build && node scripts/measure-check-script.mjs
 *   MEASURE_DISTS=/path/to/older/dist,dist node scripts/measure-check-script.mjs   (builds side by side)
 *   MEASURE_ROUNDS=9 MEASURE_CALLS=10000 ...
 *
 * Each build's `RedisStore.useToken` checks one token (12-char ids, a name, a scope, last use
 * already recorded from the same IP, so no check writes), next to scripts that do only part of
 * the work: `return 1` (the price of an EVALSHA), one HGETALL of a record of the same size (reply
 * 1, or the hash itself), and the check's three reads (lookup HGET, record HGETALL, owner GET)
 * with their reply and no logic: the floor of any check script that returns the record and its
 * owner. Rounds are interleaved (the order reversed every other round); each figure is INFO
 * commandstats' EVALSHA time over its calls in that round, and the line gives the median and
 * every round, since a shared machine moves them.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../bench/private-redis.mjs';
import { DAY, base62, median, sampleToken, sampleUser } from '../bench/samples.mjs';

const builds = (process.env.MEASURE_DISTS || 'dist').split(',');
const rounds = Number(process.env.MEASURE_ROUNDS || 9);
const calls = Number(process.env.MEASURE_CALLS || 10_000);
const now = Date.now();

const redis = await startPrivateRedis({ name: 'tessera-check-script', appendonly: 'yes', appendfsync: 'everysec' });
const client = new Redis({ port: redis.port, host: '127.0.0.1' });
const user = (id) => sampleUser(now, id);

const cases = [];
for (const [k, dist] of builds.entries()) {
  const { RedisStore } = await import(new URL('store/redis/redis-store.js', pathToFileURL(resolve(dist) + '/')).href);
  const store = RedisStore.connect({ url: `redis://127.0.0.1:${redis.port}`, keyPrefix: `b${k}:`, auditRetentionMs: 30 * DAY, lastUsedPrecisionMs: 60_000, commandTimeoutMs: 30_000 });
  const owner = user(`abcdefghij${String(k).padStart(2, '0')}`);
  await store.createUser(owner);
  const t = sampleToken(owner.id, now, { id: base62(12), name: 'ci deploy token', scope: 'api:read', createdBy: 'bench-user' });
  await store.insertToken(t, { max: 100, onLimit: 'refuse' }, now);
  if (!(await store.useToken(owner.id, t.hash, now + 1, '10.0.0.1'))) throw new Error(`${dist}: the token does not check`);
  cases.push({ name: `useToken (${dist})`, call: () => store.useToken(owner.id, t.hash, now + 2, '10.0.0.1') });
}
await client.hset('f{u}:t:x', 'n', 'ci deploy token', 's', 'api:read', 'c', now, 'e', now + 30 * DAY, 'b', 'bench-user', 'H', randomBytes(32).toString('base64url'), 'U', 1, 'I', 167772161);
await client.hset('f{u}:hashes', 'k', 'x');
await client.set('f{u}:user', JSON.stringify(user('abcdefghijkl')));
const load = (lua) => client.script('LOAD', lua);
const one = await load('return 1');
const hgetall1 = await load("local f = redis.call('HGETALL', KEYS[1]) return 1");
const hgetall = await load("return redis.call('HGETALL', KEYS[1])");
const floor = await load("local id = redis.call('HGET', KEYS[1], 'k') local f = redis.call('HGETALL', 'f{u}:t:' .. id) return { id, f, redis.call('GET', KEYS[2]) }");
cases.push({ name: 'EVALSHA return 1', call: () => client.evalsha(one, 0) });
cases.push({ name: 'HGETALL of a record, reply 1', call: () => client.evalsha(hgetall1, 1, 'f{u}:t:x') });
cases.push({ name: 'HGETALL of a record, reply it', call: () => client.evalsha(hgetall, 1, 'f{u}:t:x') });
cases.push({ name: 'floor: HGET + HGETALL + GET, reply', call: () => client.evalsha(floor, 2, 'f{u}:hashes', 'f{u}:user') });

const evalsha = async () => {
  const m = (await redis.admin.info('commandstats')).match(/^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};
const results = cases.map(() => []);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...cases.keys()].reverse() : [...cases.keys()];
  for (const i of order) {
    const [c0, u0] = await evalsha();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next++ < calls) await cases[i].call();
    }));
    const [c1, u1] = await evalsha();
    results[i].push((u1 - u0) / (c1 - c0));
  }
}
console.log(`check script ${new Date().toISOString()} load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} interleaved rounds of ${calls} calls, 16 in flight; µs per EVALSHA (INFO commandstats): median [each round]`);
for (const [i, c] of cases.entries()) console.log(`${c.name.padEnd(40)} ${median(results[i]).toFixed(1).padStart(5)}  [${results[i].map((x) => x.toFixed(1)).join(' ')}]`);
client.disconnect();
await redis.stop();
process.exit(0);
