/**
 * Token rotation over REST, on the token page (Chromium, "Regenerate") and with
 * `tessera token rotate`: same name, description, scopes and expiry policy from now; the old
 * secret dead at once, or after a grace period asked for; the link recorded; nothing else evicted.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser } from '../cli/helpers.js';

vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

const DAY = 86_400_000;

describe('token rotation', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let admin: string;
  let rita: string;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { tokens: { maxPerUser: 4, onLimit: 'evict' } } });
    admin = await gw.personalToken('admin', ADMIN_PASSWORD);
    for (const username of ['rita', 'sam', 'uma']) await gw.api('POST', '/api/v1/users', { token: admin, body: { username, password: `${username}-password` } });
    // A PAT: the clock moves days ahead, past a login's access token.
    rita = await gw.personalToken('rita', 'rita-password');
  });
  afterAll(() => gw?.stop());

  const create = async (body: object, token = rita) => (await gw.api('POST', '/api/v1/tokens', { token, body })).body;

  it('keeps name, description, scopes and lifetime (from now), kills the old secret, records the link and the event', async () => {
    const old = await create({ name: 'ci', description: 'nightly builds', scopes: 'read resource:models:r', expires_in: '90d' });
    gw.clock.advance(10 * DAY);
    const res = await gw.api('POST', `/api/v1/tokens/${old.id}/rotate`, { token: rita });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ name: 'ci', description: 'nightly builds', scopes: ['read', 'resource:models:r'], expiration: 'hard', rotated_from: old.id, status: 'active' });
    expect(res.body.id).not.toBe(old.id);
    expect(Date.parse(res.body.expires_at)).toBe(gw.clock.now + 90 * DAY);
    expect((await gw.introspect(old.token)).body).toEqual({ active: false });
    expect((await gw.introspect(res.body.token)).body).toMatchObject({ active: true, scope: 'read resource:models:r' });
    expect((await gw.api('GET', `/api/v1/tokens/${old.id}`, { token: rita })).body).toMatchObject({ status: 'revoked', revoked_by: 'rita' });
    const events = (await gw.api('GET', `/api/v1/audit?type=token.rotated`, { token: admin })).body.events;
    expect(events[0]).toMatchObject({ type: 'token.rotated', outcome: 'succeeded', target: { tokenId: old.id }, details: { rotatedTo: res.body.id } });
    expect(JSON.stringify(events)).not.toContain(res.body.token);
  });

  it('a sliding token keeps its window and maximum lifetime; a scoped PAT rotating itself stays within its own expiry', async () => {
    const sliding = await create({ name: 'laptop', expiration: 'sliding', sliding_window: '7d', max_lifetime: '60d' });
    const rotated = (await gw.api('POST', `/api/v1/tokens/${sliding.id}/rotate`, { token: rita })).body;
    expect(rotated).toMatchObject({ expiration: 'sliding', sliding_window: 7 * 86400 });
    expect(Date.parse(rotated.max_lifetime_at)).toBe(gw.clock.now + 60 * DAY);

    const scoped = await create({ name: 'self-rotating', scopes: 'read', expires_in: '30d' });
    gw.clock.advance(DAY);
    const itself = await gw.api('POST', `/api/v1/tokens/${scoped.id}/rotate`, { token: scoped.token });
    expect(itself.status).toBe(201);
    expect(Date.parse(itself.body.expires_at)).toBeLessThanOrEqual(Date.parse(scoped.expires_at));
    expect((await gw.introspect(itself.body.token)).body.active).toBe(true);
    for (const t of [sliding, rotated, scoped]) await gw.api('DELETE', `/api/v1/tokens/${t.id}`, { token: rita });
  });

  it('refuses revoked tokens and other users\' tokens, and at the per-user limit evicts nothing else', async () => {
    const revoked = await create({ name: 'gone' });
    await gw.api('DELETE', `/api/v1/tokens/${revoked.id}`, { token: rita });
    const again = await gw.api('POST', `/api/v1/tokens/${revoked.id}/rotate`, { token: rita });
    expect(again.status).toBe(400);
    expect(again.body.error_description).toMatch(/only an active token can be rotated/);
    const sams = await create({ name: 'sams' }, await gw.login('sam', 'sam-password'));
    expect((await gw.api('POST', `/api/v1/tokens/${sams.id}/rotate`, { token: rita })).status).toBe(404);

    const active = (await gw.api('GET', '/api/v1/tokens', { token: rita })).body.tokens as { id: string }[];
    while (active.length < 4) active.push(await create({ name: `filler ${active.length}` }));
    const rotated = await gw.api('POST', `/api/v1/tokens/${active[1]!.id}/rotate`, { token: rita });
    expect(rotated.body.evicted).toEqual([]);
    const after = (await gw.api('GET', '/api/v1/tokens', { token: rita })).body.tokens.map((t: { id: string }) => t.id).sort();
    expect(after).toEqual([active[0]!.id, active[2]!.id, active[3]!.id, rotated.body.id].sort());
  });

  /** Uma's own login (fresh each time: the clock moves past a login's access token here). */
  const uma = () => gw.login('uma', 'uma-password');

  it('with a grace period the old secret works until then and stops after; the answer and the event say when', async () => {
    const old = await create({ name: 'deploy', scopes: 'read', expires_in: '90d' }, await uma());
    const res = await gw.api('POST', `/api/v1/tokens/${old.id}/rotate`, { token: await uma(), body: { grace: '1h' } });
    expect(res.status).toBe(201);
    const endsAt = gw.clock.now + 3_600_000;
    expect(res.body.old_token_expires_at).toBe(new Date(endsAt).toISOString());
    expect(res.body.warning).toContain(`The old secret works until ${new Date(endsAt).toISOString()}`);
    expect((await gw.introspect(old.token)).body).toMatchObject({ active: true, exp: Math.floor(endsAt / 1000) });
    expect((await gw.introspect(res.body.token)).body.active).toBe(true);
    expect((await gw.api('GET', `/api/v1/tokens/${old.id}`, { token: await uma() })).body).toMatchObject({ status: 'active', expires_at: new Date(endsAt).toISOString() });
    const events = (await gw.api('GET', `/api/v1/audit?type=token.rotated&token=${old.id}`, { token: admin })).body.events;
    expect(events[0]).toMatchObject({ outcome: 'succeeded', details: { rotatedTo: res.body.id, graceSeconds: 3600, oldTokenEndsAt: new Date(endsAt).toISOString() } });

    gw.clock.advance(3_600_000 - 1000);
    expect((await gw.introspect(old.token)).body.active).toBe(true);
    gw.clock.advance(1000);
    expect((await gw.introspect(old.token)).body).toEqual({ active: false });
    expect((await gw.api('GET', '/api/v1/me', { token: old.token })).status).toBe(401);
    expect((await gw.introspect(res.body.token)).body.active).toBe(true);
    await gw.api('DELETE', `/api/v1/tokens/${res.body.id}`, { token: await uma() });
  });

  it('a grace period never outlives the old token, and one beyond tokens.rotationGraceMax or malformed is refused, changing nothing', async () => {
    const short = await create({ name: 'short-lived', expires_in: '30m' }, await uma());
    const res = await gw.api('POST', `/api/v1/tokens/${short.id}/rotate`, { token: await uma(), body: { grace: '1h' } });
    expect(res.body.old_token_expires_at).toBe(short.expires_at);

    const kept = await create({ name: 'kept' }, await uma());
    const before = (await gw.api('GET', '/api/v1/tokens', { token: await uma() })).body.tokens.length;
    for (const [grace, message] of [['8d', /at most 1w/], ['soon', /grace must be/], [-5, /grace must be/]] as const) {
      const refused = await gw.api('POST', `/api/v1/tokens/${kept.id}/rotate`, { token: await uma(), body: { grace } });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(message) });
    }
    expect((await gw.api('GET', '/api/v1/tokens', { token: await uma() })).body.tokens.length).toBe(before);
    expect((await gw.introspect(kept.token)).body.active).toBe(true);
    // "0s" is no grace: the old secret stops at once.
    const now = await gw.api('POST', `/api/v1/tokens/${kept.id}/rotate`, { token: await uma(), body: { grace: '0s' } });
    expect(now.body.old_token_expires_at).toBe(new Date(gw.clock.now).toISOString());
    expect((await gw.introspect(kept.token)).body).toEqual({ active: false });
    for (const t of [res.body, now.body]) await gw.api('DELETE', `/api/v1/tokens/${t.id}`, { token: await uma() });
  });

  it('"Regenerate" on the token page shows the new secret once (Chromium), and tessera token rotate prints one', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'sam', 'sam-password');
    const sams = (await gw.api('GET', '/api/v1/tokens', { token: await gw.login('sam', 'sam-password') })).body.tokens[0];
    await page.getByRole('button', { name: `Regenerate ${sams.name}` }).click();
    await page.waitForSelector('#new-token');
    const secret = (await page.locator('#new-token').textContent())!.trim();
    expect(secret).toMatch(/^tsr_[0-9A-Za-z]{50}$/);
    expect(page.dialogs[0]).toMatch(/^Regenerate the token “sams”\?/);
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, username: 'sam' });
    expect(await page.locator('#replaced-notice').textContent()).toContain('no longer works');

    // With a grace period chosen, the page says until when the old secret still works.
    await page.goto(`${gw.url}/manage_tokens`);
    await page.getByLabel(`Old secret of ${sams.name} works`).selectOption({ label: 'old secret works 1 day more' });
    await page.getByRole('button', { name: `Regenerate ${sams.name}` }).click();
    await page.waitForSelector('#new-token');
    expect(await page.locator('#replaced-notice').textContent()).toMatch(/keeps working until .*, then stops/);
    expect((await gw.introspect(secret)).body.active).toBe(true);

    const cli = cliUser();
    try {
      expect((await cli.run(['login', '--server', gw.url, '-u', 'sam', '--password-stdin'], { input: 'sam-password' })).code).toBe(0);
      // The token of the first regenerated secret (still in its grace period): rotated at once now.
      const current = { id: (await gw.introspect(secret)).body.jti as string };
      const out = await cli.run(['token', 'rotate', current.id, '--quiet']);
      expect(out.code, out.stderr).toBe(0);
      const next = out.stdout.trim();
      expect(next).toMatch(/^tsr_[0-9A-Za-z]{50}$/);
      expect((await gw.introspect(secret)).body).toEqual({ active: false });
      expect((await gw.introspect(next)).body.active).toBe(true);

      const graced = await cli.run(['token', 'rotate', (await gw.introspect(next)).body.jti, '--grace', '1h']);
      expect(graced.code, graced.stderr).toBe(0);
      expect(graced.stdout).toContain('The old secret works until');
      expect((await gw.introspect(next)).body.active).toBe(true);
    } finally {
      cli.dispose();
    }
  });
});
