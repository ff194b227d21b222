/**
 * Failed-login throttling, counted in the store so every gateway instance sees the same numbers.
 *
 * Who is counted depends on whether the client is a known device for the account (it holds a
 * valid device credential, devices.ts):
 *   - known device: its failures count against that device alone; nothing else applies to it, so
 *     failures from other addresses never lock the owner's own browser or CLI out;
 *   - unknown source, three windowed counters:
 *       account + client IP: the tight limit; a victim on another IP is unaffected by it;
 *       account, unknown sources only: a looser limit against distributed guessing; it locks out
 *         every unknown source (a botnet) but no known device;
 *       client IP, any account: against password spraying.
 * Every lock ends when its window does, so an attacker can slow unknown sources down but never
 * lock them out for longer than one window after the attack stops.
 *
 * Only failed guesses count. Each counter is a pair: `login:<c>` holds confirmed failures and
 * `login:inflight:<c>:<minute>` the attempts being checked right now. An attempt first joins the
 * in-flight count and goes ahead only while failures + in flight stay within the limit, so
 * guesses sent in parallel cannot overshoot it. It then leaves the in-flight count, adding a
 * failure only if the password was wrong: a refusal, a correct password or an unreachable
 * directory adds nothing, so a client retrying correct logins can never lock anyone out.
 *
 * The rule, exactly: at every moment, for every counter, failures + attempts in flight <= its
 * limit. So within a window at most `limit` wrong passwords are ever checked per counter,
 * however many arrive at once, and this bound is the same whatever the concurrency.
 *
 * An attempt that finds a counter full of attempts in flight (not of failures) does not fail:
 * it leaves the in-flight count and tries again shortly, for up to `auth.lockout.concurrentWait`,
 * then is refused with 429 "at the same time". Those ahead of it are decided within a password
 * check: a correct one leaves room at once (honest parallel sign-ins, e.g. a CI fleet behind one
 * NAT as one service account, go through a limit's worth at a time), a wrong one becomes a
 * failure, and once failures reach the limit the waiting attempts are refused as locked. Waiting
 * never weakens the bound: it only changes when a refused attempt would have been told.
 */
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import { TooManyConcurrentAttempts, TooManyRequests } from '../errors.js';
import type { Store } from '../store/store.js';
import { usernameKey } from '../store/usernames.js';

/** The part of the store this uses: the login failure and in-flight counters. */
export type ThrottleStore = Pick<Store, 'deleteCounter' | 'getCounter' | 'hitCounter'>;

/**
 * In-flight attempts are counted in one-minute buckets (`login:inflight:<c>:<minute>`), each kept
 * for two minutes; the in-flight count is the current bucket plus the one before. An attempt
 * leaves the bucket it joined, so a bucket expiring never lets a finished attempt take another's
 * place. A gateway that dies mid-check never takes its attempt back; the count heals within two
 * minutes. Longer than any password check (scrypt, or an LDAP bind bounded by its timeouts).
 */
const IN_FLIGHT_BUCKET_MS = 60_000;

/**
 * Pauses between two tries of an attempt waiting for room (see the header): short first (a
 * password check takes tens of milliseconds), then every 250 ms, until `concurrentWait` is spent.
 * Counted out in advance, so the wait is a bounded number of tries.
 */
export function waitSchedule(concurrentWaitMs: number): number[] {
  const pauses: number[] = [];
  let total = 0;
  for (let pause = 10; total < concurrentWaitMs; pause = Math.min(pause * 2, 250)) {
    const next = Math.min(pause, concurrentWaitMs - total);
    pauses.push(next);
    total += next;
  }
  return pauses;
}

/** Attempts one process lets wait for room at once; more are refused at once (429). */
export const MAX_WAITING = 256;

const pauseFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface LoginAttempt {
  username: string;
  ip: string;
  /** Device id of a valid device credential for this account (DeviceTrust.recognise), or null. */
  knownDevice: string | null;
}

/** The verdict on an attempt that was let through; exactly one must be given. */
export interface AttemptTicket {
  /** The password was wrong: the failure counts. */
  failed(): Promise<void>;
  /** The password was right. The account+address (or device) failures are forgotten. */
  succeeded(): Promise<void>;
  /** Nothing was learnt about the password (a directory did not answer): nothing counts. */
  undecided(): Promise<void>;
}

interface Limit {
  /** Counter name, under `login:` (failures) and `login:inflight:` (attempts being checked). */
  name: string;
  max: number;
  /** A correct password from here proves the earlier failures were the owner's typos. */
  clearedBySuccess: boolean;
}

export class LoginThrottle {
  private readonly pauses: number[];
  /** Attempts of this process pausing for room (see begin). */
  private waiting = 0;

  constructor(
    private readonly store: ThrottleStore,
    private readonly limits: TesseraConfig['auth']['lockout'],
    private readonly clock: Clock,
  ) {
    this.pauses = waitSchedule(limits.concurrentWait);
  }

  private limitsFor({ username, ip, knownDevice }: LoginAttempt): Limit[] {
    if (knownDevice) return [{ name: `device:${knownDevice}`, max: this.limits.maxFailuresPerDevice, clearedBySuccess: true }];
    // Directories match names case- and width-insensitively: so must the counters, or `Alice`,
    // `ALICE` and ` alice` would each get a fresh allowance.
    const account = usernameKey(username);
    return [
      { name: `pair:${ip}:${account}`, max: this.limits.maxFailuresPerAccountAndIp, clearedBySuccess: true },
      { name: `acct:${account}`, max: this.limits.maxFailuresPerAccount, clearedBySuccess: false },
      { name: `ip:${ip}`, max: this.limits.maxFailuresPerIp, clearedBySuccess: false },
    ];
  }

  /**
   * Lets the attempt through, or throws TooManyRequests (with Retry-After) when failures reached
   * a limit, or TooManyConcurrentAttempts when the attempts in flight still fill one after
   * `concurrentWait` (see the header).
   */
  async begin(attempt: LoginAttempt): Promise<AttemptTicket> {
    const limits = this.limitsFor(attempt);
    let waiting = false;
    try {
      for (let tries = 0; ; tries++) {
        const outcome = await this.tryBegin(limits);
        if (outcome !== 'crowded') return outcome;
        const pause = this.pauses[tries];
        if (pause === undefined) throw new TooManyConcurrentAttempts();
        // A flood of attempts must not turn into a flood of waiters, each polling the counters:
        // past MAX_WAITING in this process, a crowded attempt is refused at once, as before.
        if (!waiting) {
          if (this.waiting >= MAX_WAITING) throw new TooManyConcurrentAttempts();
          this.waiting++;
          waiting = true;
        }
        // Jittered (half to all of the pause), so attempts that met at one limit do not all try
        // again at the same instant.
        await pauseFor(pause * (0.5 + Math.random() / 2));
      }
    } finally {
      if (waiting) this.waiting--;
    }
  }

  /** One try: the ticket, `'crowded'` (nothing held), or TooManyRequests when locked. */
  private async tryBegin(limits: Limit[]): Promise<AttemptTicket | 'crowded'> {
    const now = this.clock();
    // Reading the in-flight counts before the failures, one after the other, is what keeps the
    // sum honest: a concurrent attempt adds its failure before it leaves the in-flight count, so
    // it is always seen in one or the other.
    const bucket = Math.floor(now / IN_FLIGHT_BUCKET_MS);
    const seen = await Promise.all(
      limits.map(async (limit) => {
        const joined = await this.store.hitCounter(`login:inflight:${limit.name}:${bucket}`, 2 * IN_FLIGHT_BUCKET_MS, now);
        const before = await this.store.getCounter(`login:inflight:${limit.name}:${bucket - 1}`, now);
        const failures = await this.store.getCounter(`login:${limit.name}`, now);
        return { limit, inFlight: joined.count + before.count, failures };
      }),
    );
    const locked = seen.filter((s) => s.failures.count >= s.limit.max);
    const crowded = seen.filter((s) => s.failures.count + s.inFlight > s.limit.max);
    const ticket = this.ticket(limits, bucket);
    if (locked.length) {
      await ticket.undecided();
      throw new TooManyRequests(Math.max(...locked.map((s) => s.failures.ttlMs)) / 1000);
    }
    if (crowded.length) {
      // Out of the in-flight count between tries: a waiting attempt holds no place while it
      // pauses (each try joins only long enough to read the counts).
      await ticket.undecided();
      return 'crowded';
    }
    return ticket;
  }

  private ticket(limits: Limit[], bucket: number): AttemptTicket {
    let settled = false;
    const leave = async (record: () => Promise<unknown>) => {
      if (settled) return;
      settled = true;
      // The verdict is recorded before the attempt leaves the in-flight count (see begin).
      await record();
      const now = this.clock();
      await Promise.all(limits.map((l) => this.store.hitCounter(`login:inflight:${l.name}:${bucket}`, 2 * IN_FLIGHT_BUCKET_MS, now, -1)));
    };
    return {
      failed: () => leave(() => Promise.all(limits.map((l) => this.store.hitCounter(`login:${l.name}`, this.limits.window, this.clock())))),
      succeeded: () => leave(() => Promise.all(limits.filter((l) => l.clearedBySuccess).map((l) => this.store.deleteCounter(`login:${l.name}`)))),
      undecided: () => leave(async () => {}),
    };
  }
}
