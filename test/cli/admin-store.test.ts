/**
 * `tessera admin recover`, `export` and `import`, run as the built binary against a live
 * deployment's store, configured the way the gateway is (TESSERA_CONFIG, REDIS_URL, the KEK).
 *
 * The migration proof: a live gateway on standalone Redis, exported, imported into a throwaway
 * 3-master Redis Cluster, and a gateway on the Cluster answers every PAT as before (active ones
 * active, revoked ones inactive), with the same admin password and the same signing keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { KeyEncryption } from '../../src/oauth/key-encryption.js';
import { startGateway } from '../../src/server.js';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { ADMIN_PASSWORD, CLIENT, REDIS_URL, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-server.js';
import { cliUser, type CliUser } from './helpers.js';

const KEK = randomBytes(32).toString('base64');
const kek = KeyEncryption.fromEnv({ TESSERA_KEY_ENCRYPTION_KEY: KEK })!;
const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;

async function introspect(url: string, token: string): Promise<{ active: boolean }> {
  const res = await fetch(`${url}/oauth2/introspect`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  return res.json() as Promise<{ active: boolean }>;
}
const kids = async (url: string) => ((await (await fetch(`${url}/oauth2/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('tessera admin recover / export / import', () => {
  let cli: CliUser;
  let dir: string;
  let live: TestGateway;
  let cluster: RedisCluster;
  /** The live deployment's configuration, as its operators would have it on disk. */
  let standaloneEnv: Record<string, string>;

  beforeAll(async () => {
    cli = cliUser();
    dir = mkdtempSync(join(tmpdir(), 'tessera-admin-store-'));
    live = await startTestGateway({ keyEncryption: kek });
    writeFileSync(join(dir, 'standalone.yaml'), `store:\n  keyPrefix: "${live.prefix}"\n`);
    standaloneEnv = { TESSERA_CONFIG: join(dir, 'standalone.yaml'), REDIS_URL, TESSERA_KEY_ENCRYPTION_KEY: KEK };
    cluster = await startRedisCluster(3);
  }, 120_000);
  afterAll(async () => {
    await live?.stop();
    await cluster?.stop();
    cli?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('recover resets a lost admin password (signing out its sessions) and creates new admins', async () => {
    const before = await live.login('admin', ADMIN_PASSWORD);
    const reset = await cli.run(['admin', 'recover'], { env: standaloneEnv });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/Reset user "admin": new password, role admin \(was admin\), enabled \(was enabled\)/);
    const password = /Password \(shown once\): (\S+)/.exec(reset.stdout)![1]!;
    expect((await live.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status).toBe(401);
    expect((await live.api('GET', '/api/v1/me', { token: before })).status).toBe(401);
    expect(await live.login('admin', password)).toBeTruthy();

    const created = await cli.run(['admin', 'recover', '-u', 'night-ops', '--password-stdin'], { env: standaloneEnv, input: 'night-ops-password\n' });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('Created admin user "night-ops"');
    expect(created.stdout).not.toContain('night-ops-password');
    const token = await live.login('night-ops', 'night-ops-password');
    expect((await live.api('GET', '/api/v1/me', { token })).body).toMatchObject({ username: 'night-ops', role: 'admin' });

    // A demoted, disabled admin comes back as an enabled admin.
    await live.services.users.update('night-ops', { role: 'normal', enabled: false });
    const again = await cli.run(['admin', 'recover', '-u', 'night-ops', '--password-stdin', '--json'], { env: standaloneEnv, input: 'night-ops-password-2' });
    expect(JSON.parse(again.stdout)).toEqual({ username: 'night-ops', action: 'reset', was: { role: 'normal', enabled: false } });
    expect((await live.services.store.findUserByName('night-ops'))).toMatchObject({ role: 'admin', enabled: true });
    // Put the documented password back for the tests below.
    await live.services.users.update('admin', { password: ADMIN_PASSWORD });
  }, 120_000);

  it('refuses without a Redis to talk to, or an unreachable one, in one line', async () => {
    writeFileSync(join(dir, 'memory.yaml'), 'server:\n  port: 8080\n');
    const result = await cli.run(['admin', 'recover'], { env: { TESSERA_CONFIG: join(dir, 'memory.yaml') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no Redis configured/);
    const unreachable = await cli.run(['admin', 'export'], { env: { TESSERA_CONFIG: join(dir, 'memory.yaml'), REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^tessera: cannot reach the store: /);
    expect(unreachable.stdout).toBe('');
  }, 60_000);

  it('moves a live deployment from standalone Redis to Redis Cluster: every PAT introspects as before', async () => {
    const admin = await live.login('admin', ADMIN_PASSWORD);
    for (const name of ['ana', 'ben', 'cyd']) {
      await live.api('POST', '/api/v1/users', { token: admin, body: { username: name, password: `${name}-password` } });
    }
    const active: string[] = [];
    const revoked: string[] = [];
    for (const name of ['ana', 'ben', 'cyd', 'ana', 'ben']) {
      const login = await live.login(name, `${name}-password`);
      const make = async () => (await live.api('POST', '/api/v1/tokens', { token: login, body: { name: `ci ${randomUUID()}`, expires_in: '30d' } })).body as { id: string; token: string };
      active.push((await make()).token);
      const doomed = await make();
      expect((await live.api('DELETE', `/api/v1/tokens/${doomed.id}`, { token: login })).status).toBeLessThan(300);
      revoked.push(doomed.token);
    }
    for (const pat of active) expect((await introspect(live.url, pat)).active).toBe(true);
    for (const pat of revoked) expect((await introspect(live.url, pat)).active).toBe(false);
    const liveKids = await kids(live.url);

    const file = join(dir, 'snapshot.jsonl');
    const exported = await cli.run(['admin', 'export', '-o', file], { env: standaloneEnv });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`keys encrypted with ${kek.id}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const pat of [...active, ...revoked, ADMIN_PASSWORD]) expect(text).not.toContain(pat);
    expect(text).not.toContain('"d":');
    const again = await cli.run(['admin', 'export', '-o', file], { env: standaloneEnv });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists: not overwritten');

    const prefix = `tessera-migrated:${randomUUID()}:`;
    writeFileSync(join(dir, 'cluster.yaml'), `store:\n  keyPrefix: "${prefix}"\n  clusterNodes:\n${cluster.nodes.map((n) => `    - ${n}`).join('\n')}\n`);
    const clusterEnv = { TESSERA_CONFIG: join(dir, 'cluster.yaml'), TESSERA_KEY_ENCRYPTION_KEY: KEK };
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text.split('\n').slice(0, 5).join('\n'));
    const refusedCut = await cli.run(['admin', 'import', cut], { env: clusterEnv });
    expect(refusedCut.code).toBe(1);
    expect(refusedCut.stderr).toMatch(/cut short/);

    const imported = await cli.run(['admin', 'import', file], { env: clusterEnv });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Imported 5 users, 10 token records and 3 settings.');
    // From stdin ("-"): checked whole first (kept in a private temporary file, read twice), then refused.
    const twice = await cli.run(['admin', 'import', '-'], { env: clusterEnv, input: text });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/not empty/);

    await live.close(); // the old deployment is switched off
    const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 }, clients: [{ ...CLIENT, resourceServer: true }] });
    const store = RedisStore.connect({ clusterNodes: cluster.nodes, keyPrefix: prefix, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 2000 });
    const moved = await startGateway(config, { store, adminPassword: 'not-used-admin-exists', keyEncryption: kek });
    try {
      for (const pat of active) expect((await introspect(moved.url, pat)).active).toBe(true);
      for (const pat of revoked) expect((await introspect(moved.url, pat)).active).toBe(false);
      expect(await kids(moved.url)).toEqual(liveKids);
      const login = await fetch(`${moved.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
      expect(login.status).toBe(200);
    } finally {
      await moved.close();
    }
  }, 120_000);
});
