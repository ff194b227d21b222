/**
 * The bootstrap admin on real Redis: re-created by the running gateway when the store lost it
 * (keys deleted, as after a Redis that restarted empty; the signing keys are put back too), not re-created when an admin deleted it
 * on purpose, and never reset by TESSERA_ADMIN_PASSWORD on a later start.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { REDIS_URL, deleteKeys } from '../helpers/gateway.js';

const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 } });

describe('bootstrap admin', () => {
  const running: RunningGateway[] = [];
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const gw of running.splice(0)) await gw.close();
    for (const prefix of prefixes.splice(0)) await deleteKeys(REDIS_URL, prefix);
  });

  async function start(prefix: string, adminPassword: string | undefined, lines: string[] = []): Promise<RunningGateway> {
    const store = RedisStore.connect({ url: REDIS_URL, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 1000 });
    const gw = await startGateway(config, { store, adminPassword, log: (line) => lines.push(line), keyEncryption: null, adminCheckIntervalMs: 200 });
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
    const prefix = newPrefix();
    const lines: string[] = [];
    const gw = await start(prefix, 'first-admin-password', lines);
    expect(await login(gw, 'admin', 'first-admin-password')).toBe(200);
    const signingKeys = await gw.services.store.getSetting('oidc:signing-keys');
    const cookieKeys = await gw.services.store.getSetting('oidc:cookie-keys');
    await deleteKeys(REDIS_URL, prefix); // Redis restarted empty
    expect(await gw.services.store.findUserByName('admin')).toBeNull();
    await expect.poll(() => gw.services.store.findUserByName('admin'), { timeout: 15_000 }).not.toBeNull();
    expect(await login(gw, 'admin', 'first-admin-password')).toBe(200);
    expect(lines.filter((l) => l.includes('Created user "admin"'))).toHaveLength(2);
    // The signing and cookie keys are put back as they were (by the key poll, run here directly).
    expect(await gw.oidc.reloadIfChanged()).toBe(false);
    expect(await gw.services.store.getSetting('oidc:signing-keys')).toBe(signingKeys);
    expect(await gw.services.store.getSetting('oidc:cookie-keys')).toBe(cookieKeys);
    expect(lines.join('\n')).not.toContain('first-admin-password');
  }, 60_000);

  it('with a generated password, prints the new one once when it re-creates the account', async () => {
    const prefix = newPrefix();
    const lines: string[] = [];
    const gw = await start(prefix, undefined, lines);
    await deleteKeys(REDIS_URL, prefix);
    await expect.poll(() => lines.filter((l) => l.includes('generated password')).length, { timeout: 15_000 }).toBe(2);
    const password = lines.at(-1)!.split(': ').at(-1)!;
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
