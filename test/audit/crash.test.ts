/**
 * A real crash: a gateway process (the built code, real Redis) is killed with SIGKILL at the
 * worst moment, right after a token was stored and before its outcome event replaced the
 * "attempted" one. A second gateway on the same Redis then finds the token AND its event: the
 * trail may say "attempted" for a change that happened, never nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtCli } from '../cli/helpers.js';
import { ADMIN_PASSWORD, deleteKeys, REDIS_URL, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Starts the built gateway; its store dies (SIGKILL) when asked to store the outcome of a token creation. */
const CHILD = (build: string, prefix: string) => `
import { parseConfig } from '${build}/config/load.js';
import { startGateway } from '${build}/server.js';
import { RedisStore } from '${build}/store/redis/redis-store.js';
const config = parseConfig({ server: { port: 0, host: '127.0.0.1', issuer: 'https://tessera.test' }, passwords: { scryptCost: 1024, minLength: 8 } });
const real = RedisStore.connect({ url: ${JSON.stringify(REDIS_URL)}, keyPrefix: ${JSON.stringify(prefix)}, auditRetentionMs: config.tokens.auditRetention, commandTimeoutMs: 5000 });
const store = new Proxy(real, {
  get(target, prop) {
    if (prop === 'auditAppend') {
      return (event, now, retention, replaces) => {
        if (replaces !== undefined && JSON.parse(event).type === 'token.created') process.kill(process.pid, 'SIGKILL');
        return target.auditAppend(event, now, retention, replaces);
      };
    }
    const value = Reflect.get(target, prop);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
const gateway = await startGateway(config, { store, adminPassword: ${JSON.stringify(ADMIN_PASSWORD)}, auditSinks: [] });
console.log('LISTENING ' + gateway.url);
`;

describe('kill -9 between a change and its outcome event', () => {
  const prefix = `tessera-test:${randomUUID()}:`;
  let after: TestGateway | undefined;
  let script: string | undefined;
  afterAll(async () => {
    if (script) rmSync(script, { force: true });
    await after?.close();
    await deleteKeys(REDIS_URL, prefix);
  });

  it('leaves the change and its "attempted" event, both found by the next gateway', async () => {
    const build = dirname(dirname(builtCli()));
    script = join(build, `crash-${randomUUID()}.mjs`);
    writeFileSync(script, CHILD(build, prefix));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /LISTENING (\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.stderr.on('data', (chunk) => (output += chunk));
      void exited.then(() => reject(new Error(`gateway exited before listening: ${output}`)));
    });

    const login = await (await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json();
    const creation = await fetch(`${url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
      body: JSON.stringify({ name: 'made-at-the-crash' }),
    }).catch((err: Error) => err);
    expect(creation).toBeInstanceOf(Error); // the process died mid-request: no answer
    expect(await exited).toBe('SIGKILL');

    after = await startTestGateway({ prefix });
    const admin = await after.personalToken('admin', ADMIN_PASSWORD);
    const tokens = (await after.api('GET', '/api/v1/tokens', { token: admin })).body.tokens;
    const made = tokens.find((t: any) => t.name === 'made-at-the-crash');
    expect(made).toBeDefined();
    const events = (await after.api('GET', `/api/v1/audit?token=${made.id}`, { token: admin })).body.events;
    expect(events).toEqual([expect.objectContaining({ type: 'token.created', outcome: 'attempted', actor: expect.objectContaining({ username: 'admin' }), target: expect.objectContaining({ tokenId: made.id }) })]);
  }, 120_000);
});
