/**
 * Pages for a newcomer's first hour, over real HTTP: /admin/users pages and searches on the
 * server with 5,000 users (made through the store, as a directory import would), an admin
 * deletes a user after a confirmation, unknown addresses answer browsers with the HTML 404 page
 * (API clients keep JSON), and the device page labels the code box, not the hidden CSRF field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, formFields } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleUser } from '../store/contract.js';
import { SEARCH_BUDGET } from '../../src/identity/users.js';

const USERS = 5000;
const name = (i: number) => `user-${String(i).padStart(4, '0')}`;
const rows = (html: string) => [...html.matchAll(/<tr>\s*<td data-label="User">/g)].length;
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('admin users pages', () => {
  let gw: TestGateway;
  const browser = new CookieBrowser();

  beforeAll(async () => {
    gw = await startTestGateway();
    const now = Date.now();
    for (let start = 0; start < USERS; start += 250) {
      await Promise.all(Array.from({ length: Math.min(250, USERS - start) }, (_, k) => gw.services.store.createUser(sampleUser(now, { username: name(start + k), displayName: `Person ${start + k}` }))));
    }
    const form = formFields((await browser.get(`${gw.url}/login`)).text, 'action="/login"').fields;
    const signIn = await browser.post(`${gw.url}/login`, { ...form, username: 'admin', password: ADMIN_PASSWORD, return: '/admin/users' });
    expect(signIn.location).toBe(`${gw.url}/admin/users`);
  }, 240_000);
  afterAll(() => gw?.stop());

  /** Follows the "Next" / "Search further" links from `start`; returns each page's rows and text. */
  async function follow(start: string): Promise<{ rows: number; names: string[]; text: string }[]> {
    const pages: { rows: number; names: string[]; text: string }[] = [];
    let next: string | undefined = start;
    while (next !== undefined && pages.length < 200) {
      const page = await browser.get(`${gw.url}${next}`);
      expect(page.status).toBe(200);
      pages.push({ rows: rows(page.text), names: [...page.text.matchAll(/<a href="\/admin\/users\/([^"]+)"><strong>/g)].map((m) => decodeURIComponent(m[1]!)), text: page.text });
      next = /href="(\/admin\/users\?[^"]*)" rel="next"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
    }
    return pages;
  }

  it('pages 5,000 users on the server, 50 to a page, with next and first-page links', async () => {
    const pages = await follow('/admin/users');
    expect(pages).toHaveLength(101);
    expect(pages.slice(0, 100).every((p) => p.rows === 50)).toBe(true);
    expect(pages[100]!.rows).toBe(1);
    // Every user exactly once, in name order (admin first).
    const names = pages.flatMap((p) => p.names);
    expect(names).toEqual(['admin', ...Array.from({ length: USERS }, (_, i) => name(i))]);
    expect(pages[0]!.text).not.toContain('rel="first"');
    expect(pages[1]!.text).toContain('href="/admin/users" rel="first"');
    expect(pages[100]!.text).not.toContain('rel="next"');
    // A cursor the server did not hand out is refused, not guessed at.
    expect((await browser.get(`${gw.url}/admin/users?after=u.bm90LWEtY3Vyc29y`)).status).toBe(400);
  });

  it('searches on the server a bounded number of users per request, and the pages of a search keep it', async () => {
    const ten = await follow('/admin/users?q=user-004');
    expect(ten.flatMap((p) => p.names)).toEqual(Array.from({ length: 10 }, (_, i) => name(40 + i)));
    expect(ten[0]!.text).toContain('Matching users');
    // "Person 1", "Person 10".."Person 19", "Person 100".., "Person 1000".."Person 1999": 1111.
    const many = await follow('/admin/users?q=person+1');
    expect(many.flatMap((p) => p.names)).toHaveLength(1111);
    expect(new Set(many.flatMap((p) => p.names)).size).toBe(1111);
    expect(many.every((p) => p.rows <= 50)).toBe(true);
    expect(many[0]!.text).toContain('href="/admin/users?q=person+1&amp;after=');
    // No request reads more than SEARCH_BUDGET users: a search for nothing takes several.
    const none = await follow('/admin/users?q=nobody-by-this-name');
    expect(none.length).toBe(Math.ceil((USERS + 1) / SEARCH_BUDGET));
    expect(none[0]!.text).toContain('No matches among the users searched so far.');
    expect(none[none.length - 1]!.text).toContain('No users match.');
  });

  it('deletes a user from their page after a confirmation, and not oneself', async () => {
    const page = await browser.get(`${gw.url}/admin/users/${name(7)}`);
    expect(page.text).toContain(`data-confirm="Delete user ${name(7)} and revoke all their tokens? This cannot be undone."`);
    const { action, fields } = formFields(page.text, `action="/admin/users/${name(7)}/delete"`);
    const deleted = await browser.post(gw.url + action, fields);
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe(`${gw.url}/admin/users?done=user-deleted`);
    expect(await gw.services.store.findUserByName(name(7))).toBeNull();
    expect((await browser.get(deleted.location!)).text).toContain('The user was deleted');
    expect((await browser.get(`${gw.url}/admin/users/admin`)).text).not.toContain('/admin/users/admin/delete');
    // Without the form's CSRF token nothing is deleted.
    expect((await browser.post(`${gw.url}/admin/users/${name(8)}/delete`, {})).status).toBe(403);
    expect(await gw.services.store.findUserByName(name(8))).not.toBeNull();
  });

  it('answers a browser at an unknown address with the HTML 404 page, and API clients with JSON', async () => {
    const page = await browser.request('GET', `${gw.url}/no/such/page`, undefined, { accept: BROWSER_ACCEPT });
    expect(page.status).toBe(404);
    expect(page.text).toMatch(/^<!doctype html>/i);
    expect(page.text).toContain('There is no page at this address.');
    const api = await fetch(`${gw.url}/no/such/page`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'not_found', error_description: 'no route for GET /no/such/page' });
    const json = await fetch(`${gw.url}/api/v1/nothing`, { headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('device page: the Code label and id belong to the code box, not the hidden CSRF field', async () => {
    const { text } = await new CookieBrowser().get(`${gw.url}/oauth2/device`);
    const input = /<input id="user_code"[^>]*>/.exec(text)?.[0];
    expect(input).toBeDefined();
    expect(input).toContain('name="user_code"');
    expect(input).toContain('type="text"');
    expect(text).toContain('<label for="user_code">Code</label><input id="user_code"');
    expect(text).toMatch(/<input type="hidden" name="xsrf" value="[^"]+"\/>/);
    expect(text.match(/id="user_code"/g)).toHaveLength(1);
  });
});
