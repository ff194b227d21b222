/**
 * The API client in-process, for what the child-process tests cannot reach: the gateway's clock
 * is fake but the CLI's is real, so only here can the client's own clock say "expired".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, sessionFromTokens, type LoginTokens } from '../../src/cli/client.js';
import { CredentialStore } from '../../src/cli/credentials.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('ApiClient', () => {
  let gw: TestGateway;
  let dir: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'tessera-client-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await gw?.stop();
  });

  async function loggedIn(name: string) {
    const tokens = (await gw.api('POST', '/api/v1/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).body as LoginTokens;
    const store = new CredentialStore(join(dir, name, 'credentials.json'));
    store.put(gw.url, sessionFromTokens('admin', tokens, Date.now()), true);
    return store;
  }

  it('refreshes before calling when its own clock says the access token has expired', async () => {
    const store = await loggedIn('proactive');
    const trace: string[] = [];
    const client = new ApiClient({ server: gw.url, store, now: () => Date.now() + 10 * 60_000, trace: (line) => trace.push(line) });
    expect(await client.request('GET', '/api/v1/me')).toMatchObject({ username: 'admin' });
    expect(trace.filter((l) => !l.startsWith('<'))).toEqual(['refreshing the access token', `> POST ${gw.url}/api/v1/login/refresh`, `> GET ${gw.url}/api/v1/me`]);
  });

  it('refreshes and retries once when the gateway answers 401 invalid_token', async () => {
    const store = await loggedIn('reactive');
    const trace: string[] = [];
    const client = new ApiClient({ server: gw.url, store, trace: (line) => trace.push(line) });
    gw.clock.advance(6 * 60_000);
    expect(await client.request('GET', '/api/v1/me')).toMatchObject({ username: 'admin' });
    expect(trace.filter((l) => l.startsWith('>') || l.startsWith('<') || l.startsWith('refreshing'))).toEqual([
      `> GET ${gw.url}/api/v1/me`,
      expect.stringMatching(/^< 401 /),
      'refreshing the access token',
      `> POST ${gw.url}/api/v1/login/refresh`,
      expect.stringMatching(/^< 200 /),
      `> GET ${gw.url}/api/v1/me`,
      expect.stringMatching(/^< 200 /),
    ]);
  });

  it('does not retry a 401 forever when the fresh token is refused too', async () => {
    const store = await loggedIn('refused');
    let calls = 0;
    const answer401: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/api/v1/me')) {
        calls++;
        return new Response(JSON.stringify({ error: 'invalid_token', error_description: 'no' }), { status: 401 });
      }
      return fetch(input, init);
    };
    const client = new ApiClient({ server: gw.url, store, fetch: answer401 });
    await expect(client.request('GET', '/api/v1/me')).rejects.toMatchObject({ exitCode: 3, message: 'session expired: run tessera login' });
    expect(calls).toBe(2);
  });
});
