/**
 * The one error mapper (src/http/errors.ts) through the real app: JSON for the API and unknown
 * addresses asked for by programs, HTML pages in the areas people read (the pages, the redirect
 * sign-in endpoints, the OIDC login interaction, unknown addresses asked for by browsers), in the
 * words of its one table; and a store outage is 503 with Retry-After in every area.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_MESSAGES } from '../../src/http/errors.js';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const escaped = (text: string) => text.replace(/'/g, '&#39;');

describe('error responses by route area', () => {
  let redis: RedisServer;
  let gw: TestGateway;
  let pat: string;
  const signedIn = new CookieBrowser();
  const signingIn = new CookieBrowser();
  let signInForm: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedisServer();
    gw = await startTestGateway({ redisUrl: redis.url });
    pat = await gw.personalToken('admin', ADMIN_PASSWORD);
    const form = formFields((await signedIn.get(`${gw.url}/login`)).text, 'action="/login"').fields;
    expect((await signedIn.post(`${gw.url}/login`, { ...form, username: 'admin', password: ADMIN_PASSWORD })).status).toBe(303);
    signInForm = formFields((await signingIn.get(`${gw.url}/login`)).text, 'action="/login"').fields;
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
  });

  describe('with the store up', () => {
    it('an unknown address is JSON for programs and the 404 page for browsers', async () => {
      const api = await fetch(`${gw.url}/no/such/thing`);
      expect(api.status).toBe(404);
      expect(await api.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /no/such/thing' });
      const page = await fetch(`${gw.url}/no/such/thing`, { headers: HTML });
      expect(page.status).toBe(404);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const text = await page.text();
      expect(text).toContain(`<h1>${PAGE_MESSAGES.no_page.title}</h1>`);
      expect(text).toContain(PAGE_MESSAGES.no_page.sentence);
    });

    it('API endpoints answer JSON even to a browser, with the RFC 6750 challenge', async () => {
      const res = await fetch(`${gw.url}/api/v1/me`, { headers: HTML });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tessera"');
      expect((await res.json()).error).toBe('unauthorized');
    });

    it('a redirect sign-in endpoint refuses with a sign-in page naming the rule', async () => {
      const res = await fetch(`${gw.url}/sso/nowhere/login`);
      expect(res.status).toBe(404);
      const text = await res.text();
      expect(text).toContain(`<h1>${PAGE_MESSAGES.sign_in_failed.title}</h1>`);
      expect(text).toMatch(/id="sign-in-error">no such identity source</);
    });

    it('an OIDC login interaction that is not this browser\'s is a page, not oidc-provider\'s JSON', async () => {
      const res = await fetch(`${gw.url}/interaction/not-a-real-uid`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const text = await res.text();
      expect(text).toContain(`<h1>${PAGE_MESSAGES.interaction_expired.heading}</h1>`);
      expect(text).toContain(PAGE_MESSAGES.interaction_expired.sentence);
    });

    it('a page area shows the table\'s title and the error\'s own sentence', async () => {
      const page = await signedIn.get(`${gw.url}/admin/no/such/page`);
      expect(page.status).toBe(404);
      expect(page.text).toContain(`<h1>${PAGE_MESSAGES[404].title}</h1>`);
      expect(page.text).toContain(PAGE_MESSAGES.no_page.sentence);
      expect(page.text).toContain('href="/manage_tokens"');
    });
  });

  describe('with the store down', () => {
    beforeAll(async () => {
      await redis.stop();
    });

    it('the API: 503 temporarily_unavailable, Retry-After, no detail', async () => {
      const res = await gw.api('GET', '/api/v1/me', { token: pat });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the server could not complete the request' });
    });

    it('a signed-in page: the 503 page with Retry-After', async () => {
      const res = await fetch(`${gw.url}/manage_tokens`, { headers: { cookie: signedIn['cookieHeader'](), ...HTML } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const text = await res.text();
      expect(text).toContain(`<h1>${PAGE_MESSAGES[503].title}</h1>`);
      expect(text).toContain(PAGE_MESSAGES[503].sentence);
      expect(text).not.toMatch(/redis|ECONNREFUSED|tessera-test:/i);
    });

    it('the sign-in form: 503 with Retry-After and the form again', async () => {
      const res = await fetch(`${gw.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: signingIn['cookieHeader'](), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...signInForm, username: 'admin', password: ADMIN_PASSWORD }).toString(),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const text = await res.text();
      expect(text).toContain(escaped(PAGE_MESSAGES.sign_in_unavailable.sentence));
      expect(text).toContain('action="/login"');
    });
  });
});
