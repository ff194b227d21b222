/**
 * The RFC 8628 polling loop of `tessera login --sso`, against a tiny fake OpenID Provider: the
 * gateway has no device endpoint yet, so this is the only end-to-end check until it does.
 * Sleeping is faked (and moves a fake clock), so intervals are asserted, not waited for.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discoverDeviceEndpoints, pollForTokens, refreshDeviceTokens, requestDeviceCode, type DeviceAuthorization } from '../../src/cli/device-flow.js';
import { AuthError } from '../../src/cli/errors.js';

interface Answer {
  status: number;
  body: unknown;
}

describe('device flow (RFC 8628)', () => {
  let server: Server;
  let url: string;
  let metadata: Record<string, unknown> | null;
  let tokenAnswers: Answer[];
  let tokenRequests: Record<string, string>[];
  let deviceRequests: Record<string, string>[];

  const pending: Answer = { status: 400, body: { error: 'authorization_pending' } };
  const slowDown: Answer = { status: 400, body: { error: 'slow_down' } };
  const granted: Answer = { status: 200, body: { access_token: 'access-1', token_type: 'Bearer', expires_in: 300, refresh_token: 'refresh-1' } };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(raw));
        const reply = ({ status, body }: Answer) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url === '/.well-known/openid-configuration') {
          return metadata ? reply({ status: 200, body: metadata }) : reply({ status: 404, body: { error: 'not_found' } });
        }
        if (req.url === '/device' && req.method === 'POST') {
          deviceRequests.push(form);
          return reply({ status: 200, body: { device_code: 'device-code-1', user_code: 'WDJB-MJHT', verification_uri: `${url}/activate`, verification_uri_complete: `${url}/activate?user_code=WDJB-MJHT`, expires_in: 600, interval: 5 } });
        }
        if (req.url === '/token' && req.method === 'POST') {
          tokenRequests.push(form);
          return reply(tokenAnswers.shift() ?? { status: 500, body: { error: 'script_exhausted' } });
        }
        reply({ status: 404, body: {} });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    metadata = { issuer: url, device_authorization_endpoint: `${url}/device`, token_endpoint: `${url}/token` };
    tokenAnswers = [];
    tokenRequests = [];
    deviceRequests = [];
  });

  /** A clock that only moves when the loop sleeps. */
  function fakeTime() {
    const slept: number[] = [];
    let now = 1_000_000;
    return { slept, now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
  }

  const authorization = (over: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({ device_code: 'device-code-1', user_code: 'WDJB-MJHT', verification_uri: `${url}/activate`, expires_in: 600, interval: 5, ...over });

  it('discovers the endpoints, asks for a code as the public client tessera-cli, and polls until approved', async () => {
    const endpoints = await discoverDeviceEndpoints(url);
    expect(endpoints).toEqual({ device_authorization_endpoint: `${url}/device`, token_endpoint: `${url}/token` });
    const started = await requestDeviceCode(endpoints);
    expect(started).toMatchObject({ user_code: 'WDJB-MJHT', verification_uri: `${url}/activate`, interval: 5 });
    expect(deviceRequests).toEqual([{ client_id: 'tessera-cli', scope: 'openid profile offline_access' }]);

    tokenAnswers = [pending, slowDown, pending, granted];
    const time = fakeTime();
    const tokens = await pollForTokens(endpoints.token_endpoint, started, time);
    expect(tokens).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1' });
    // 5 s between polls; slow_down adds 5 s for that poll and every later one (RFC 8628 §3.5).
    expect(time.slept).toEqual([5000, 5000, 10_000, 10_000]);
    expect(tokenRequests).toHaveLength(4);
    expect(tokenRequests[0]).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'device-code-1', client_id: 'tessera-cli' });
  });

  it('waits 5 seconds when the server names no interval', async () => {
    tokenAnswers = [pending, granted];
    const time = fakeTime();
    await pollForTokens(`${url}/token`, authorization({ interval: undefined }), time);
    expect(time.slept).toEqual([5000, 5000]);
  });

  it('stops on expired_token and access_denied with a clear message', async () => {
    tokenAnswers = [pending, { status: 400, body: { error: 'expired_token' } }];
    await expect(pollForTokens(`${url}/token`, authorization(), fakeTime())).rejects.toThrow(new AuthError('the code expired before it was approved: run tessera login --sso again'));
    tokenAnswers = [{ status: 400, body: { error: 'access_denied' } }];
    await expect(pollForTokens(`${url}/token`, authorization(), fakeTime())).rejects.toThrow('the login was denied in the browser');
    tokenAnswers = [{ status: 400, body: { error: 'invalid_client', error_description: 'unknown client tessera-cli' } }];
    await expect(pollForTokens(`${url}/token`, authorization(), fakeTime())).rejects.toThrow('device login failed: unknown client tessera-cli');
  });

  it('gives up by itself when the code runs out, without one more poll', async () => {
    tokenAnswers = [pending, pending, pending, pending];
    const time = fakeTime();
    await expect(pollForTokens(`${url}/token`, authorization({ expires_in: 12 }), time)).rejects.toThrow(/the code expired/);
    expect(tokenRequests).toHaveLength(2); // at 5 s and 10 s; at 15 s the code is gone
  });

  it('says SSO is not supported yet when discovery has no device endpoint, or no discovery at all', async () => {
    metadata = { issuer: url, token_endpoint: `${url}/token` };
    await expect(discoverDeviceEndpoints(url)).rejects.toThrow(/^SSO login is not supported by this gateway \(/);
    metadata = null;
    await expect(discoverDeviceEndpoints(url)).rejects.toThrow(/^SSO login is not supported by this gateway \(/);
  });

  it('refreshes at the token endpoint, and reports a refused refresh token as null', async () => {
    const credential = { token_endpoint: `${url}/token`, client_id: 'tessera-cli', refresh_token: 'refresh-1' };
    tokenAnswers = [granted, { status: 400, body: { error: 'invalid_grant' } }];
    expect(await refreshDeviceTokens(credential)).toMatchObject({ access_token: 'access-1' });
    expect(tokenRequests[0]).toEqual({ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'tessera-cli' });
    expect(await refreshDeviceTokens(credential)).toBeNull();
  });
});
