/**
 * The worker threads that check posted SAML responses (response-worker.ts), so the event loop
 * that answers introspection, forward auth and every other request never waits on XML.
 *
 * piscina keeps the threads warm and does the bookkeeping; the rules are ours:
 *   - a budget per response, from arrival to verdict (`samlLimits.responseBudget`). A response
 *     still waiting then leaves the queue; one being checked has its worker terminated (piscina
 *     replaces it), because a thread cannot be interrupted in the middle of a digest;
 *   - a bounded queue (`samlLimits.queue`): a response that finds it full is refused at once,
 *     so a flood costs the attacker's requests and no one else's.
 * Both refusals are 503 `temporarily_unavailable`: the IdP's user can try again.
 *
 * One pool per distinct setting, shared by every SAML source (and every gateway) in the process:
 * each worker holds a compiled schema validator of about 150 MB.
 */
import { existsSync } from 'node:fs';
import { Piscina } from 'piscina';
import { Forbidden, TemporarilyUnavailable } from '../../errors.js';
import type { SamlLimits } from './config.js';
import type { AssertionContent } from './response-reading.js';
import type { Verdict, VerifyTask, WorkerTask } from './response-worker.js';

/**
 * How long a response may wait for a worker to take it: a full queue ahead of it, each using its
 * whole budget, or a replacement worker's start-up (compiling the validator takes seconds, tens
 * of seconds on a loaded machine).
 */
const START_WAIT_MS = 60_000;
/** `Atomics.waitAsync` (ES2024; in Node since 16), typed here as the project targets ES2022. */
type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: true; value: Promise<WaitOutcome> } | { async: false; value: WaitOutcome };
}).waitAsync;
const BUSY = 'too many SAML responses are being checked right now: try again in a moment';

export type PoolLimits = Pick<SamlLimits, 'workers' | 'responseBudget' | 'queue'>;

/** The compiled worker beside this file, or its TypeScript source with a loader when run from source. */
function workerFile(): { filename: string; execArgv: string[] } {
  const compiled = new URL('./response-worker.js', import.meta.url);
  if (existsSync(compiled)) return { filename: compiled.href, execArgv: [] };
  return { filename: new URL('./response-worker.ts', import.meta.url).href, execArgv: ['--import', new URL('./from-source/register.mjs', import.meta.url).href] };
}

export class ResponsePool {
  private readonly pool: Piscina<WorkerTask, Verdict>;
  private warming: Promise<void> | undefined;
  /**
   * Responses being checked or waiting. Counted here, not by piscina's `maxQueue`: piscina keeps
   * tasks that carry an abort signal (all of ours) in a queue of their own that it does not bound.
   */
  private inFlight = 0;

  constructor(private readonly limits: PoolLimits) {
    const { filename, execArgv } = workerFile();
    this.pool = new Piscina({
      filename,
      execArgv,
      // Warm threads only: a new one compiles the schema validator first (seconds of CPU).
      minThreads: limits.workers,
      maxThreads: limits.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      // 1 task per thread: a second one would wait inside a busy worker, out of the queue's count.
      concurrentTasksPerWorker: 1,
    });
    // A worker killed for its budget surfaces here as well as on its task; nothing more to do.
    this.pool.on('error', () => undefined);
  }

  /** The verified assertion, or `Forbidden` naming the broken rule, or 503 past the budget or queue. */
  async verify(task: Omit<VerifyTask, 'started'>, log: (line: string) => void): Promise<AssertionContent> {
    if (this.inFlight >= this.limits.workers + this.limits.queue) throw new TemporarilyUnavailable(BUSY);
    this.inFlight += 1;
    const started = new Int32Array(new SharedArrayBuffer(4));
    const abort = new AbortController();
    let overBudget = false;
    let settled = false;
    let budget: NodeJS.Timeout | undefined;
    // The budget runs from the moment a worker takes the response (it flags `started`), so
    // waiting behind others or behind a worker's start-up is not counted against it.
    const waiting = waitAsync(started, 0, 0, START_WAIT_MS);
    void (waiting.async ? waiting.value : Promise.resolve(waiting.value)).then((outcome) => {
      if (settled) return;
      if (outcome === 'timed-out') return abort.abort();
      budget = setTimeout(() => {
        overBudget = true;
        abort.abort();
      }, this.limits.responseBudget);
    });
    let verdict: Verdict;
    try {
      verdict = await this.pool.run({ ...task, started }, { signal: abort.signal });
    } catch (err) {
      if (overBudget) throw new TemporarilyUnavailable(`the SAML response could not be checked within ${this.limits.responseBudget / 1000}s: try again`);
      if (abort.signal.aborted) throw new TemporarilyUnavailable(BUSY);
      log(`the SAML response worker failed: ${(err as Error).message}`);
      throw new TemporarilyUnavailable('the SAML response could not be checked: try again');
    } finally {
      this.inFlight -= 1;
      settled = true;
      clearTimeout(budget);
      // Ends the wait above if the task never started.
      Atomics.store(started, 0, 2);
      Atomics.notify(started, 0);
    }
    if (!verdict.ok) {
      if (verdict.log) log(verdict.log);
      throw new Forbidden(verdict.message);
    }
    return verdict.assertion;
  }

  /**
   * Settles once every worker has started (compiled its validator): a warm-up task per worker,
   * without a budget, which a worker runs only after its start-up.
   */
  warmUp(): Promise<void> {
    this.warming ??= Promise.all(Array.from({ length: this.limits.workers }, () => this.pool.run({ warmUp: true }))).then(() => undefined);
    return this.warming;
  }

  /** Tasks the worker threads have finished (responses and warm-ups), counted by piscina. */
  get completedByWorkers(): number {
    return this.pool.completed;
  }

  /** Ids of the worker threads now running; one stopped for its budget is replaced by a new one. */
  threadIds(): number[] {
    return this.pool.threads.map((thread) => thread.threadId);
  }

  close(): Promise<void> {
    return this.pool.close({ force: true });
  }
}

const pools = new Map<string, ResponsePool>();

/** The process's pool for these limits, started on first use. */
export function responsePool(limits: PoolLimits): ResponsePool {
  const key = `${limits.workers}/${limits.responseBudget}/${limits.queue}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new ResponsePool(limits);
    pools.set(key, pool);
  }
  return pool;
}
