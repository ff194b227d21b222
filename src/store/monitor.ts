/**
 * Watches the store's durability on a running gateway: the checks a store offers
 * (`DurabilityChecks`: Redis eviction policy, persistence, replicas) run at start-up, where a
 * fatal finding stops the gateway, and again every `store.checkInterval`, because a setting can
 * change under a running gateway (`CONFIG SET maxmemory-policy allkeys-lru`). A fatal finding
 * turns /readyz to 503 until a later check no longer sees it; every change is logged once, when
 * it appears and when it clears. Stores without the capability (memory) have nothing to check.
 */
import { hasDurabilityChecks, type DurabilityFinding, type Store } from './store.js';

/** The store can lose acknowledged data as configured: the gateway does not start (exit code 2). */
export class UnsafeStore extends Error {
  readonly exitCode = 2;
  constructor(readonly findings: DurabilityFinding[]) {
    super(`refusing to start: the store can lose data Tessera acknowledged:\n${findings.map((f) => `  - ${f.message}`).join('\n')}`);
    this.name = 'UnsafeStore';
  }
}

export interface StoreMonitorOptions {
  intervalMs: number;
  log: (line: string) => void;
}

export class StoreMonitor {
  private current = new Map<string, DurabilityFinding>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: StoreMonitorOptions,
  ) {}

  /** Start-up: logs every finding and throws `UnsafeStore` on a fatal one. */
  async checkAtStart(): Promise<void> {
    await this.check();
    const fatal = this.fatal();
    if (fatal.length > 0) throw new UnsafeStore(fatal);
  }

  /** Runs the checks once; findings that appeared or cleared since the last run are logged. */
  async check(): Promise<void> {
    if (!hasDurabilityChecks(this.store)) return;
    const findings = await this.store.checkDurability();
    const next = new Map(findings.map((f) => [`${f.node} ${f.setting} ${f.level}`, f]));
    for (const [key, finding] of next) {
      if (!this.current.has(key)) this.options.log(`${finding.level === 'fatal' ? 'ERROR' : 'WARNING'}: store check: ${finding.message}`);
    }
    for (const [key, finding] of this.current) {
      if (!next.has(key)) this.options.log(`store check: resolved: redis ${finding.node} ${finding.setting}`);
    }
    this.current = next;
  }

  /** Findings that make the store unsafe to acknowledge writes on (readiness fails). */
  fatal(): DurabilityFinding[] {
    return [...this.current.values()].filter((f) => f.level === 'fatal');
  }

  /** Re-checks every `intervalMs`. A check that cannot reach the store is skipped: readiness sees the outage itself. */
  start(): void {
    if (this.timer || !hasDurabilityChecks(this.store)) return;
    this.timer = setInterval(() => {
      this.running ??= this.check()
        .catch(() => {})
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
