/**
 * The ioredis client behind `RedisStore`: standalone, Sentinel or Cluster, configured to fail fast.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisConnectOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://...` (TLS). Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Cluster startup nodes (`host:port` or `redis://...`); when set, `url` is ignored. */
  clusterNodes?: string[];
  /**
   * Redis Sentinel: the sentinels (`host:port`) and the monitored primary's name. The client asks
   * the sentinels for the current primary and follows failovers; credentials and the database
   * number still come from `url`.
   */
  sentinel?: { nodes: string[]; name: string };
  keyPrefix: string;
  auditRetentionMs: number;
  /** Precision of recorded last use (RedisStoreOptions). */
  lastUsedPrecisionMs?: number;
  /** ioredis `enableAutoPipelining`: commands issued in one tick share one socket write. */
  autoPipelining?: boolean;
  /** A command not answered within this time fails with `TemporarilyUnavailable`. */
  commandTimeoutMs: number;
  /** Replicated acknowledgement (replication.ts): replicas to wait for (default: every one seen) and for how long. */
  replicaAcks?: number;
  replicaAckTimeoutMs?: number;
  /** Where the store reports writes its replicas did not confirm. */
  log?: (line: string) => void;
}

/**
 * Builds the client. Does not wait for the connection.
 *
 * Fail-fast, verified by test/store/redis-outage.test.ts (server killed, stopped with SIGSTOP,
 * blocked by DEBUG SLEEP / CLIENT PAUSE, never there):
 * - `commandTimeout` bounds every command sent: a hung server (process stopped, network
 *   black hole: the socket stays open, nothing answers) is only ever detected by it. ioredis
 *   also arms it for commands parked in the offline queue.
 * - `enableOfflineQueue: true`, because `false` fails every command issued before the very
 *   first connect completes. The store itself (`call()`) refuses to send while the client is
 *   not ready once it has been ready, so after startup nothing is queued: while Redis is known
 *   down calls fail immediately, and nothing runs late after a reconnect.
 * - `maxRetriesPerRequest: 1`: commands queued at startup against a dead server are flushed
 *   with an error after one failed reconnect (the default, 20, keeps them for many seconds).
 * - `autoResendUnfulfilledCommands: false`: commands in flight when the connection dropped are
 *   not replayed after the reconnect (their callers got TemporarilyUnavailable already).
 * - `retryStrategy` reconnects forever, at most 1 s apart, so the store recovers by itself.
 * - On a Cluster the store races each call against `commandTimeoutMs` (+50 ms) too: Cluster's
 *   own offline queue (while it is discovering the slots) has no per-command timer. A standalone
 *   or Sentinel client needs no second timer (RedisStore.call).
 */
export function createRedisClient(opts: RedisConnectOptions): Redis | Cluster {
  const common: RedisOptions = {
    commandTimeout: opts.commandTimeoutMs,
    // Bounds a reconnect attempt to a black-holed address (calls are bounded by commandTimeout).
    connectTimeout: Math.max(2000, opts.commandTimeoutMs * 5),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    ...(opts.autoPipelining ? { enableAutoPipelining: true } : {}),
  };
  let redis: Redis | Cluster;
  if (opts.clusterNodes && opts.clusterNodes.length > 0) {
    const nodes = opts.clusterNodes.map((node) => (node.includes('://') ? node : `redis://${node}`));
    // Nodes found through CLUSTER SLOTS only get redisOptions, not what a startup URL carried:
    // credentials and TLS go there.
    const first = new URL(nodes[0]!);
    const auth: RedisOptions = {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    };
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...common, ...auth },
      enableOfflineQueue: true,
      clusterRetryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
    };
    redis = new Cluster(nodes, clusterOptions);
  } else if (opts.sentinel) {
    const url = new URL(opts.url ?? 'redis://127.0.0.1:6379');
    redis = new Redis({
      ...common,
      sentinels: opts.sentinel.nodes.map((node) => {
        const [host, port] = node.split(':');
        return { host: host!, port: Number(port ?? 26379) };
      }),
      name: opts.sentinel.name,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      db: Number(url.pathname.slice(1) || 0),
      sentinelRetryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    });
  } else {
    redis = new Redis(opts.url ?? 'redis://127.0.0.1:6379', common);
  }
  // Connection errors surface through the calls that need Redis; without a listener ioredis
  // would print every reconnect failure as an "Unhandled error event".
  redis.on('error', () => {});
  return redis;
}
