/**
 * The user listing on Redis (the rule: `Store.listUserPage` in store.ts). The username index
 * (`Pusers`, a hash) has no order, so beside it a sorted set `Puser-order` holds one member per
 * index field, `<field>\0<user id>` at score 0: a page is one ZRANGE BYLEX from the cursor, one
 * HMGET on the index and one GET per user on the page, so no call grows with the number of users.
 * Both keys are global (each in its own slot on Cluster); the user records stay under their hash
 * tags and are read one by one.
 *
 * The set follows the index: an entry is added only after its field is claimed (createUser), and
 * removed once its field is gone (deleteUser). A crash between the claim and the add leaves a user
 * unlisted until the next process walks the index (`RedisStore.upgradeUsernameIndex` adds every
 * field again, idempotently). An entry whose field no longer names its user is skipped on read
 * and removed: ids are never reused, so such an entry can never become right again.
 */
import type { Cluster, Redis } from 'ioredis';
import type { UserRecord } from '../records.js';
import { usernameKey } from '../usernames.js';
import { checkUserPageLimit, formatUserCursor, parseUserCursor, splitUserEntry, userEntry, type UserPage, type UserPageQuery } from '../user-pages.js';

type Call = <T>(what: string, run: () => Promise<T>) => Promise<T>;

/** No UTF-8 string holds the byte 0xff: `[prefix` .. `[prefix\xff` spans every member starting with prefix. */
const TOP = Buffer.from([0xff]);

export class RedisUserOrder {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: string,
    private readonly usersKey: string,
    private readonly call: Call,
    private readonly getUser: (id: string) => Promise<UserRecord | null>,
  ) {}

  /** Adds index fields (each `[field, user id]`); adding one already there changes nothing. */
  async add(fields: [string, string][]): Promise<void> {
    if (!fields.length) return;
    const members = fields.flatMap(([field, id]) => [0, userEntry(field, id)]);
    await this.call('indexUserOrder', () => this.redis.zadd(this.key, ...members));
  }

  async remove(fields: [string, string][]): Promise<void> {
    if (!fields.length) return;
    await this.call('unindexUserOrder', () => this.redis.zrem(this.key, ...fields.map(([field, id]) => userEntry(field, id))));
  }

  async page(query: UserPageQuery): Promise<UserPage> {
    checkUserPageLimit(query.limit);
    const after = parseUserCursor(query.cursor);
    const prefix = query.prefix === undefined ? undefined : Buffer.from(usernameKey(query.prefix), 'utf8');
    let start: Buffer | string = '-';
    if (prefix) start = Buffer.concat([Buffer.from('['), prefix]);
    if (after !== undefined && (!prefix || Buffer.compare(Buffer.from(after, 'utf8'), prefix) >= 0)) start = Buffer.concat([Buffer.from('('), Buffer.from(after, 'utf8')]);
    const end = prefix ? Buffer.concat([Buffer.from('['), prefix, TOP]) : '+';
    // One more than the page: a next page is promised only if there is one.
    const found = (await this.call('listUserPage', () => this.redis.call('ZRANGE', this.key, start, end, 'BYLEX', 'LIMIT', 0, query.limit + 1))) as string[];
    const entries = found.slice(0, query.limit);
    const parsed = entries.map((entry) => ({ entry, ...splitUserEntry(entry)! }));
    const ids = parsed.length ? await this.call('listUserPage', () => this.redis.hmget(this.usersKey, ...parsed.map((e) => e.key))) : [];
    const stale: [string, string][] = [];
    const current = parsed.filter((e, i) => {
      if (ids[i] === e.id) return true;
      stale.push([e.key, e.id]);
      return false;
    });
    const records = await Promise.all(current.map((e) => this.getUser(e.id)));
    const seen = new Set<string>();
    const users: UserRecord[] = [];
    records.forEach((user, i) => {
      // Between the two steps of createUser/deleteUser a field may point at a record that is not
      // (or no longer) this name's; while an old field moves to its key a user has two entries.
      if (!user || usernameKey(user.username) !== usernameKey(current[i]!.key) || seen.has(user.id)) return;
      seen.add(user.id);
      users.push(user);
    });
    await this.remove(stale);
    return found.length > entries.length ? { users, next: formatUserCursor(entries[entries.length - 1]!) } : { users };
  }
}
