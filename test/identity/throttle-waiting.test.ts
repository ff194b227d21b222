/**
 * The lockout's waiting room (src/identity/throttle.ts): an attempt that finds a limit full of
 * attempts in flight waits for room, but one process lets at most MAX_WAITING wait at once, so
 * a flood of attempts is refused at once instead of becoming a flood of waiters polling the
 * counters. Real throttle on the memory store; counts, not times.
 */
import { describe, expect, it } from 'vitest';
import { LoginThrottle, MAX_WAITING } from '../../src/identity/throttle.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { parseConfig } from '../../src/config/load.js';
import { TooManyConcurrentAttempts } from '../../src/errors.js';

describe('lockout waiting room', () => {
  it('lets MAX_WAITING attempts wait for room and refuses the next one at once; the waiters then go through', async () => {
    const config = parseConfig({ auth: { lockout: { maxFailuresPerAccountAndIp: 1, maxFailuresPerAccount: 10_000, maxFailuresPerIp: 10_000, concurrentWait: '60s' } } });
    const throttle = new LoginThrottle(new MemoryStore({ auditRetentionMs: 1000 }), config.auth.lockout, Date.now);
    const attempt = { username: 'ci-bot', ip: '203.0.113.7', knownDevice: null };
    // One attempt in flight fills the account+address limit (1).
    const first = await throttle.begin(attempt);

    let settled = 0;
    const waiters = Array.from({ length: MAX_WAITING }, () =>
      throttle.begin(attempt).then((ticket) => {
        settled++;
        return ticket.succeeded();
      }),
    );
    // Each waiter has tried once and is pausing: the next attempt finds the waiting room full.
    await expect.poll(() => (throttle as unknown as { waiting: number }).waiting, { timeout: 30_000 }).toBe(MAX_WAITING);
    const waiting = () => (throttle as unknown as { waiting: number }).waiting;
    let refusal: unknown;
    const extra = throttle.begin(attempt).catch((err: unknown) => (refusal = err));
    // Refused after its one try, never counted among the waiters (without the cap it would wait,
    // and be refused only once concurrentWait, 60 s, had passed).
    await expect.poll(() => (waiting() > MAX_WAITING ? 'waiting' : refusal ? 'refused' : 'pending'), { timeout: 30_000 }).toBe('refused');
    await extra;
    expect(refusal).toBeInstanceOf(TooManyConcurrentAttempts);
    expect(settled).toBe(0);

    // The attempt in flight succeeds: the waiters go through, one place at a time.
    await first.succeeded();
    await Promise.all(waiters);
    expect(settled).toBe(MAX_WAITING);
    expect(waiting()).toBe(0);
  }, 120_000);
});
