/** The memory store's outbox queues and delivery logs (the rules: outbox.ts). */
import { checkOutboxName, type OutboxAddResult, type OutboxItem } from '../outbox.js';

export class MemoryOutbox {
  private readonly queues = new Map<string, Map<string, OutboxItem>>();
  private readonly logs = new Map<string, string[]>();

  private queue(name: string): Map<string, OutboxItem> {
    checkOutboxName(name);
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = new Map()));
    return queue;
  }

  add(name: string, id: string, payload: string, dueAt: number, max: number): OutboxAddResult {
    const queue = this.queue(name);
    if (queue.has(id)) return 'exists';
    if (queue.size >= max) return 'full';
    queue.set(id, { id, payload, attempts: 0, dueAt });
    return 'added';
  }

  /** Due order, then id: the same order as the Redis sorted set. */
  private ordered(name: string): OutboxItem[] {
    return [...this.queue(name).values()].sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : 1));
  }

  claim(name: string, now: number, leaseMs: number, count: number): OutboxItem[] {
    const due = this.ordered(name).filter((item) => item.dueAt <= now).slice(0, count);
    for (const item of due) {
      item.attempts++;
      item.dueAt = now + leaseMs;
    }
    return due.map((item) => ({ ...item }));
  }

  remove(name: string, ids: string[]): number {
    const queue = this.queue(name);
    return ids.filter((id) => queue.delete(id)).length;
  }

  defer(name: string, id: string, dueAt: number): void {
    const item = this.queue(name).get(id);
    if (item) item.dueAt = dueAt;
  }

  peek(name: string, count: number): OutboxItem[] {
    return this.ordered(name).slice(0, count).map((item) => ({ ...item }));
  }

  size(name: string): number {
    return this.queue(name).size;
  }

  logPush(name: string, entry: string, max: number): void {
    checkOutboxName(name);
    const log = this.logs.get(name) ?? [];
    log.unshift(entry);
    log.length = Math.min(log.length, max);
    this.logs.set(name, log);
  }

  logRead(name: string, count: number): string[] {
    checkOutboxName(name);
    return (this.logs.get(name) ?? []).slice(0, count);
  }
}
