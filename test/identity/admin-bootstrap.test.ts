/**
 * The bootstrap admin on real Redis: re-created by the running gateway when the store lost it
 * (a throwaway redis-server killed and started again empty on the same port; the signing keys
 * are put back too), not re-created when an admin deleted it on purpose, and never reset by
 * TESSERA_ADMIN_PASSWORD on a later start.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { REDIS_URL, deleteKeys } from '../helpers/gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { messagesInto } from '../helpers/log-capture.js';

const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 } });

describe('bootstrap admin', () => {
  const running: RunningGateway[] = [];
  const prefixes: string[] = [];
  const servers: RedisServer[] = [];
  afterEach(async () => {
    for (const gw of running.splice(0)) await gw.close();
    for (const prefix of prefixes.splice(0)) await deleteKeys(REDIS_URL, prefix);
    for (const server of servers.splice(0)) await server.stop();
  });

  /** A Redis of its own, and a way to make it restart empty (no persistence), as after a crash. */
  async function ownRedis(): Promise<{ url: string; restartEmpty(): Promise<void> }> {
    const first = await startRedisServer();
    servers.push(first);
    return {
      url: first.url,
      async restartEmpty() {
        await first.stop();
        servers.push(await startRedisServer({ port: first.port }));
      },
    };
  }

  async function start(prefix: string, adminPassword: string | undefined, lines: string[] = [], url = REDIS_URL): Promise<RunningGateway> {
    const store = RedisStore.connect({ url, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 1000 });
    const gw = await startGateway(config, { store, adminPassword, logger: messagesInto(lines), revealAdminPassword: (line) => lines.push(line), keyEncryption: null, adminCheckIntervalMs: 200 });
    running.push(gw);
    return gw;
  }
  const login = async (gw: RunningGateway, username: string, password: string) =>
    (await fetch(`${gw.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })).status;
  const newPrefix = () => {
    const prefix = `tessera-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };

  it('is re-created by the running gateway when the store lost it, and the keys are put back', async () => {
    const redis = await ownRedis();
    const lines: string[] = [];
    const gw = await start('tessera:', 'first-admin-password', lines, redis.url);
    expect(await login(gw, 'admin', 'first-admin-password')).toBe(200);
    const signingKeys = await gw.services.store.getSetting('oidc:signing-keys');
    const cookieKeys = await gw.services.store.getSetting('oidc:cookie-keys');
    await redis.restartEmpty();
    await expect.poll(() => gw.services.store.findUserByName('admin').catch(() => null), { timeout: 30_000 }).not.toBeNull();
    expect(await login(gw, 'admin', 'first-admin-password')).toBe(200);
    expect(lines.filter((l) => l.includes('Created user "admin"'))).toHaveLength(2);
    // The signing and cookie keys are put back as they were (by the key poll, run here directly).
    expect(await gw.oidc.reloadIfChanged()).toBe(false);
    expect(await gw.services.store.getSetting('oidc:signing-keys')).toBe(signingKeys);
    expect(await gw.services.store.getSetting('oidc:cookie-keys')).toBe(cookieKeys);
    expect(lines.join('\n')).not.toContain('first-admin-password');
  }, 60_000);

  it('with a generated password, prints the new one once when it re-creates the account', async () => {
    const redis = await ownRedis();
    const lines: string[] = [];
    const gw = await start('tessera:', undefined, lines, redis.url);
    await redis.restartEmpty();
    await expect.poll(() => lines.filter((l) => l.includes('(shown once)')).length, { timeout: 30_000 }).toBe(2);
    const password = lines.filter((l) => l.includes('(shown once)')).at(-1)!.split(': ').at(-1)!;
    expect(await login(gw, 'admin', password)).toBe(200);
  }, 60_000);

  it('stays deleted when an admin deleted it on purpose', async () => {
    const prefix = newPrefix();
    const gw = await start(prefix, 'first-admin-password');
    await gw.services.users.create({ username: 'root2', password: 'root2-password', role: 'admin' });
    await gw.services.users.delete('admin', 'root2');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several checks (every 200 ms here)
    expect(await gw.services.store.findUserByName('admin')).toBeNull();
  }, 60_000);

  it('TESSERA_ADMIN_PASSWORD on a later start does not reset an existing admin password', async () => {
    const prefix = newPrefix();
    const gw = await start(prefix, 'first-admin-password');
    await gw.services.users.update('admin', { password: 'changed-by-the-admin' });
    await gw.close();
    running.length = 0;
    const again = await start(prefix, 'another-env-password');
    expect(await login(again, 'admin', 'another-env-password')).toBe(401);
    expect(await login(again, 'admin', 'changed-by-the-admin')).toBe(200);
  });
});
