/**
 * The Redis store's outbox (the rules: ../outbox.ts). One queue is three keys under one hash tag
 * (one Cluster slot), so each step is one atomic script:
 *
 *   P{ob:<queue>}:z   sorted set: item id, score dueAt (ms)
 *   P{ob:<queue>}:p   hash: item id → payload
 *   P{ob:<queue>}:a   hash: item id → attempts
 *   Pdl:<log>         list of delivery log entries, newest first, trimmed to its bound
 *
 * Adding, removing and deferring are acknowledged once replicated, as every write that must not
 * be lost; claiming is not held for replicas (a claim lost in a failover costs at worst one
 * duplicate delivery, which receivers drop by id, and it runs on every poll of every worker).
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { checkOutboxName, type OutboxAddResult, type OutboxItem } from '../outbox.js';

/** KEYS: z, p, a. ARGV: id, payload, dueAt, max. */
const ADD = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 'exists' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'full' end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], 0)
return 'added'
`;

/** KEYS: z, p, a. ARGV: now, lease end, count. Returns id, payload, attempts triples. */
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
  out[#out + 1] = redis.call('HINCRBY', KEYS[3], id, 1)
end
return out
`;

/** KEYS: z, p, a. ARGV: ids. */
const REMOVE = `
local n = 0
for _, id in ipairs(ARGV) do
  n = n + redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
return n
`;

type Call = <T>(what: string, run: () => Promise<T>) => Promise<T>;
type Replicated = (what: string, build: (pipeline: ChainableCommander) => void) => Promise<unknown[]>;

export class RedisOutbox {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly call: Call,
    private readonly replicated: Replicated,
  ) {}

  private keys(queue: string): [string, string, string] {
    checkOutboxName(queue);
    const base = `${this.prefix}{ob:${queue}}`;
    return [`${base}:z`, `${base}:p`, `${base}:a`];
  }

  async add(queue: string, id: string, payload: string, dueAt: number, max: number): Promise<OutboxAddResult> {
    const [reply] = await this.replicated('outboxAdd', (p) => p.eval(ADD, 3, ...this.keys(queue), id, payload, dueAt, max));
    return reply as OutboxAddResult;
  }

  async claim(queue: string, now: number, leaseMs: number, count: number): Promise<OutboxItem[]> {
    const keys = this.keys(queue);
    const flat = (await this.call('outboxClaim', () => this.redis.eval(CLAIM, 3, ...keys, now, now + leaseMs, count))) as (string | number)[];
    const items: OutboxItem[] = [];
    for (let i = 0; i < flat.length; i += 3) items.push({ id: String(flat[i]), payload: String(flat[i + 1]), attempts: Number(flat[i + 2]), dueAt: now + leaseMs });
    return items;
  }

  async remove(queue: string, ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    const [reply] = await this.replicated('outboxRemove', (p) => p.eval(REMOVE, 3, ...this.keys(queue), ...ids));
    return Number(reply);
  }

  async defer(queue: string, id: string, dueAt: number): Promise<void> {
    const [z] = this.keys(queue);
    await this.replicated('outboxDefer', (p) => p.zadd(z, 'XX', dueAt, id));
  }

  async peek(queue: string, count: number): Promise<OutboxItem[]> {
    const [z, p, a] = this.keys(queue);
    const flat = await this.call('outboxPeek', () => this.redis.zrange(z, 0, count - 1, 'WITHSCORES'));
    if (!flat.length) return [];
    const ids = flat.filter((_, i) => i % 2 === 0);
    const [payloads, attempts] = await Promise.all([this.call('outboxPeek', () => this.redis.hmget(p, ...ids)), this.call('outboxPeek', () => this.redis.hmget(a, ...ids))]);
    return ids
      .map((id, i) => ({ id, payload: payloads[i] ?? '', attempts: Number(attempts[i] ?? 0), dueAt: Number(flat[2 * i + 1]) }))
      .filter((item, i) => payloads[i] !== null);
  }

  size(queue: string): Promise<number> {
    const [z] = this.keys(queue);
    return this.call('outboxSize', () => this.redis.zcard(z));
  }

  async logPush(log: string, entry: string, max: number): Promise<void> {
    checkOutboxName(log);
    const key = `${this.prefix}dl:${log}`;
    await this.replicated('deliveryLogPush', (p) => p.lpush(key, entry).ltrim(key, 0, max - 1));
  }

  logRead(log: string, count: number): Promise<string[]> {
    checkOutboxName(log);
    return this.call('deliveryLogRead', () => this.redis.lrange(`${this.prefix}dl:${log}`, 0, count - 1));
  }
}
