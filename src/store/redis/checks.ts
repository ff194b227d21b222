/**
 * The Redis settings that decide whether data Tessera was told is stored can vanish:
 *
 * - `maxmemory-policy` must be `noeviction`. Any other policy lets Redis delete keys when
 *   `maxmemory` is reached (now or after someone sets it): `allkeys-*` any key, `volatile-*` keys
 *   with an expiry, and most of Tessera's records have one (token records, secret-hash index,
 *   sessions). An evicted user index or token index means a revoke that finds nothing and
 *   tokens that stay active. With `noeviction` a full Redis refuses writes instead, which
 *   Tessera reports (503, /readyz) rather than losing data.
 * - Persistence: without AOF and without RDB snapshots a Redis restart loses every user, token
 *   and revocation. Only a warning: a replicated setup may accept that for replicas.
 *
 * Checked on the primaries only (Cluster: every master; Sentinel: the current primary): replicas
 * ignore maxmemory until promoted, and the periodic re-check sees the new primary then.
 * `CONFIG GET` is often refused on managed Redis (or renamed); then the finding says what could
 * not be verified and how to set it, and the gateway starts.
 */
import type { Cluster, Redis } from 'ioredis';
import type { DurabilityFinding } from '../store.js';

const POLICY_FIX = 'set `maxmemory-policy noeviction` (redis.conf, or `CONFIG SET maxmemory-policy noeviction` then `CONFIG REWRITE`; on managed Redis, in the provider\'s parameter group)';
const PERSISTENCE_FIX = 'turn on AOF: `appendonly yes` with `appendfsync everysec` (redis.conf, or CONFIG SET then CONFIG REWRITE)';

/** The primaries to check: every Cluster master, else the node the client is connected to. */
function primariesOf(redis: Redis | Cluster): Redis[] {
  return (redis as Cluster).isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
}

/** `host:port` of the server a client talks to (for Sentinel: the primary it found). */
function nodeName(node: Redis): string {
  const stream = (node as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  if (stream?.remoteAddress && stream.remotePort) return `${stream.remoteAddress}:${stream.remotePort}`;
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

type Reply = [Error | null, unknown];

const configValue = ([error, reply]: Reply): string | Error =>
  error ?? (Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : new Error('setting not reported'));

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Reads one primary's settings (one round trip) and judges them. */
async function checkPrimary(node: Redis): Promise<DurabilityFinding[]> {
  const name = nodeName(node);
  const replies = ((await node
    .pipeline()
    .config('GET', 'maxmemory-policy')
    .config('GET', 'save')
    .config('GET', 'appendfsync')
    .info('persistence')
    .exec()) ?? []) as Reply[];
  const [policyReply, saveReply, fsyncReply, infoReply] = replies as [Reply, Reply, Reply, Reply];
  const findings: DurabilityFinding[] = [];
  const finding = (level: DurabilityFinding['level'], setting: string, message: string): void => {
    findings.push({ level, node: name, setting, message: `redis ${name}: ${message}` });
  };

  const policy = configValue(policyReply);
  if (policy instanceof Error) {
    finding('unverified', 'maxmemory-policy', `could not read maxmemory-policy (CONFIG GET refused: ${policy.message}), so Tessera cannot verify that Redis never evicts its keys. Make sure it is noeviction: ${POLICY_FIX}.`);
  } else if (policy !== 'noeviction') {
    finding('fatal', 'maxmemory-policy', `maxmemory-policy is ${policy}: under memory pressure Redis may evict Tessera's keys (volatile-* policies evict keys with an expiry, which most token and session records have), and revoked tokens could become active again. Fix: ${POLICY_FIX}.`);
  }

  if (infoReply[0]) {
    finding('unverified', 'appendonly', `could not read the persistence settings (INFO refused: ${infoReply[0].message}): if neither AOF nor RDB is on, a Redis restart loses every user and token. Fix: ${PERSISTENCE_FIX}.`);
    return findings;
  }
  const aof = infoField(String(infoReply[1]), 'aof_enabled') === '1';
  if (aof) {
    const fsync = configValue(fsyncReply);
    if (fsync === 'no') finding('warning', 'appendfsync', 'appendfsync is no: the operating system decides when the AOF reaches the disk, so a crash can lose many seconds of writes. Fix: `appendfsync everysec` (or always).');
    return findings;
  }
  const save = configValue(saveReply);
  if (save instanceof Error) {
    finding('unverified', 'appendonly', `AOF is off and RDB snapshots could not be read (CONFIG GET refused: ${save.message}): if neither is on, a Redis restart loses every user and token. Fix: ${PERSISTENCE_FIX}.`);
  } else if (save.trim() === '') {
    finding('warning', 'appendonly', `neither AOF nor RDB persistence is on: a Redis restart loses every user, token and revocation. Fix: ${PERSISTENCE_FIX}.`);
  }
  return findings;
}

/** Every primary, in parallel. A primary that cannot be asked at all throws (the caller reports it). */
export async function checkRedis(redis: Redis | Cluster): Promise<DurabilityFinding[]> {
  const perNode = await Promise.all(primariesOf(redis).map((node) => checkPrimary(node)));
  return perNode.flat();
}

/** Replicas currently connected to each primary (`INFO replication` → `connected_slaves`). */
export async function connectedReplicas(redis: Redis | Cluster): Promise<number[]> {
  return Promise.all(
    primariesOf(redis).map(async (node) => Number(infoField(await node.info('replication'), 'connected_slaves') ?? 0)),
  );
}
