/**
 * The declared scope vocabulary (`scopes:`): PAT creation refuses undeclared scopes over REST,
 * on the token page (Chromium, declared scopes as checkboxes) and through the CLI; the list is at
 * `GET /api/v1/scopes` and `tessera scope list`; a deployment without a vocabulary keeps
 * accepting free-text scopes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ScopeVocabulary } from '../../src/tokens/scope-vocabulary.js';
import { signIn, useChromium } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { CLI_TIMEOUTS, builtCli, cliUser, type CliUser } from '../cli/helpers.js';

vi.setConfig(CLI_TIMEOUTS);
beforeAll(() => void builtCli());

const SCOPES = [
  { name: 'read:packages', description: 'Download packages' },
  { name: 'write:packages', description: 'Publish packages' },
  { name: 'resource:<id>:r|w|rw', description: 'One resource: read, write or both' },
];

describe('declared scopes', () => {
  const chromium = useChromium();
  let gw: TestGateway;
  let alice: string;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { scopes: SCOPES } });
    const admin = await gw.login('admin', ADMIN_PASSWORD);
    await gw.api('POST', '/api/v1/users', { token: admin, body: { username: 'alice', password: 'alice-password' } });
    alice = await gw.login('alice', 'alice-password');
  });
  afterAll(() => gw?.stop());

  const tokenCount = async () => (await gw.api('GET', '/api/v1/tokens', { token: alice })).body.tokens.length as number;

  it('refuses an undeclared scope and creates nothing; declared scopes and pattern matches are issued', async () => {
    for (const scopes of ['read:packagse', 'resource:models:x', 'admin']) {
      const refused = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'typo', scopes } });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: 'invalid_scope', error_description: expect.stringMatching(/^(unknown scope|resource scopes look like)/) });
    }
    expect(await tokenCount()).toBe(0);
    const created = await gw.api('POST', '/api/v1/tokens', { token: alice, body: { name: 'ci', scopes: 'read:packages resource:models:rw' } });
    expect(created.status).toBe(201);
    expect((await gw.introspect(created.body.token)).body).toMatchObject({ active: true, scope: 'read:packages resource:models:rw' });
  });

  it('lists the vocabulary at GET /api/v1/scopes, for signed-in callers only', async () => {
    const listed = await gw.api('GET', '/api/v1/scopes', { token: alice });
    expect(listed.body).toEqual({
      scopes: [
        { name: 'read:packages', description: 'Download packages', pattern: false },
        { name: 'write:packages', description: 'Publish packages', pattern: false },
        { name: 'resource:<id>:r|w|rw', description: 'One resource: read, write or both', pattern: true },
      ],
      allow_undeclared: false,
    });
    expect((await gw.api('GET', '/api/v1/scopes')).status).toBe(401);
  });

  it('the token page offers declared scopes as checkboxes with their descriptions', async () => {
    const page = await chromium.newPage();
    await signIn(page, gw.url, 'alice', 'alice-password');
    expect(await page.locator('#token-scope-choices').textContent()).toContain('Publish packages');
    await page.getByLabel('Name').fill('publisher');
    await page.getByRole('checkbox', { name: /write:packages/ }).check();
    await page.getByLabel('Other scopes').fill('resource:repo-7:r');
    const [created] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Generate token' }).click()]);
    expect(created.status()).toBe(201);
    const secret = (await page.locator('#new-token').textContent())!.trim();
    expect((await gw.introspect(secret)).body).toMatchObject({ active: true, scope: 'resource:repo-7:r write:packages' });

    await page.goto(`${gw.url}/manage_tokens`);
    await page.getByLabel('Name').fill('typo');
    await page.getByLabel('Other scopes').fill('admin');
    await page.getByRole('button', { name: 'Generate token' }).click();
    expect(await page.locator('#new-token-form').textContent()).toContain('Unknown scope admin');
  });

  it('tessera scope list prints the vocabulary', async () => {
    const cli: CliUser = cliUser();
    try {
      expect((await cli.run(['login', '--server', gw.url, '-u', 'alice', '--password-stdin'], { input: 'alice-password' })).code).toBe(0);
      const listed = await cli.run(['scope', 'list']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(/read:packages\s+Download packages/);
      expect(listed.stdout).toContain('resource:<id>:r|w|rw');
      expect(listed.stderr).toContain('Other scopes are refused.');
      const refused = await cli.run(['token', 'create', '--name', 'x', '--scope', 'admin']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('unknown scope admin');
    } finally {
      cli.dispose();
    }
  });
});

describe('without a declared vocabulary', () => {
  it('free-text scopes are accepted, as before; allowUndeclaredScopes decides when set', async () => {
    const gw = await startTestGateway({ store: 'memory' });
    try {
      const token = await gw.login('admin', ADMIN_PASSWORD);
      expect((await gw.api('GET', '/api/v1/scopes', { token })).body).toEqual({ scopes: [], allow_undeclared: true });
      expect((await gw.api('POST', '/api/v1/tokens', { token, body: { name: 'free', scopes: 'anything:goes' } })).status).toBe(201);
    } finally {
      await gw.stop();
    }
    const lenient = new ScopeVocabulary(parseConfig({ scopes: SCOPES, tokens: { allowUndeclaredScopes: true } }));
    expect(() => lenient.assertDeclared(['anything:goes'])).not.toThrow();
    expect(() => new ScopeVocabulary(parseConfig({ scopes: SCOPES })).assertDeclared(['anything:goes'])).toThrow(/unknown scope anything:goes/);
    expect(() => parseConfig({ scopes: [{ name: 'has space', description: 'x' }] })).toThrow(/RFC 6749/);
  });
});
