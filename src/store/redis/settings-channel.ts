/**
 * Settings changes between gateway instances: an atomic compare-and-set on `Pset:<name>` and a
 * pub/sub channel `Psettings` that announces each change.
 *
 * Pub/sub needs a connection of its own (a subscribed connection can run no other command), made
 * with `duplicate()` so it has the same topology: on Sentinel it follows the primary through
 * failovers; on Cluster, classic PUBLISH is broadcast to every node, so a subscriber on any node
 * hears a publish made on any other. ioredis re-subscribes after a reconnect; what was published
 * while disconnected is lost, which is why instances keep polling as well.
 */
import type { Cluster, Redis } from 'ioredis';

/** KEYS[1] = the setting. ARGV = 1 if a value is expected (else 0), the expected value, the new value. */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (ARGV[1] == '0' and current == false) or (ARGV[1] == '1' and current == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

export async function compareAndSet(redis: Redis | Cluster, key: string, expected: string | null, value: string): Promise<boolean> {
  const done = await redis.eval(COMPARE_AND_SET, 1, key, expected === null ? '0' : '1', expected ?? '', value);
  return done === 1;
}

/**
 * Subscribes on a connection of its own. Not bounded by the store's command timeout: a new
 * connection (on Cluster, with slot discovery) may take longer than one command; `timeoutMs`
 * bounds it instead, and a subscriber that failed or timed out is disconnected, never leaked.
 */
export async function subscribe(redis: Redis | Cluster, channel: string, listener: (message: string) => void, timeoutMs: number): Promise<() => Promise<void>> {
  const subscriber = redis.duplicate();
  // Reconnect failures surface through the store's own calls; nothing to report here.
  subscriber.on('error', () => {});
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) listener(message);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      subscriber.subscribe(channel),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not subscribed within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    subscriber.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return async () => {
    subscriber.disconnect();
  };
}
