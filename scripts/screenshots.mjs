// Screenshots of the web pages for the docs: `npm run screenshots` (builds first). Runs a
// throwaway gateway on the in-memory store, drives Debian's chromium through the real pages,
// and writes PNGs to docs/screenshots/ at a phone and a desktop width. The token on the
// "created" screenshot is real but dies with this process and its in-memory store.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { parseConfig } from '../dist/config/load.js';
import { startGateway } from '../dist/server.js';
import { MemoryStore } from '../dist/store/memory/memory-store.js';

const OUT = new URL('../docs/screenshots/', import.meta.url);
const ADMIN_PASSWORD = 'screenshots-admin-password';
const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

async function startDemoGateway() {
  const port = await freePort();
  const config = parseConfig({
    server: { port, host: '127.0.0.1', issuer: `http://127.0.0.1:${port}` },
    passwords: { scryptCost: 1024 },
    loginBanner: 'Authorised use only. Activity on this system is logged.',
    clients: [{ id: 'tessera-cli', name: 'Tessera CLI', public: true, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] }],
  });
  const store = new MemoryStore({ auditRetentionMs: config.tokens.auditRetention });
  const gateway = await startGateway(config, { store, adminPassword: ADMIN_PASSWORD });
  const { users, pats } = gateway.services;

  // Sample people and tokens, made through the services as the pages would.
  const alice = await users.create({ username: 'alice', password: 'alice-password', displayName: 'Alice Martin', email: 'alice@example.org' });
  await users.create({ username: 'bob', password: 'bob-password', displayName: 'Bob Stone', enabled: false });
  await users.upsertExternal({ source: 'corp-ldap', username: 'dmitri', displayName: 'Dmitri Ivanov', email: 'dmitri@example.org', groups: ['engineering', 'ci'] });
  const asAlice = { user: alice, via: 'session', scopes: null };
  const laptop = await pats.create(asAlice, { name: 'laptop git', description: 'Pushes from my laptop', expires_in: '90d', scopes: ['read:packages', 'write:packages'] });
  await pats.verify(laptop.secret, '10.0.4.17');
  await pats.create(asAlice, { name: 'ci runner', description: 'Nightly build', expiration: 'sliding', sliding_window: '7d', max_lifetime: '90d', scopes: ['resource:repo-42:r'] });
  const old = await pats.create(asAlice, { name: 'old build bot', expires_in: '30d' });
  await pats.revoke(asAlice, old.record.id);
  return gateway;
}

async function signIn(page, url, username, password) {
  await page.goto(`${url}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL(`${url}/manage_tokens`), page.getByRole('button', { name: 'Sign in' }).click()]);
}

async function shoot(page, name) {
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: true });
  console.log(`docs/screenshots/${name}.png`);
}

mkdirSync(OUT, { recursive: true });
const gateway = await startDemoGateway();
const browser = await chromium.launch({ executablePath: process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  for (const [label, viewport] of Object.entries(WIDTHS)) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const { url } = gateway;

    await page.goto(`${url}/login`);
    await shoot(page, `sign-in-${label}`);
    await page.goto(`${url}/oauth2/device`);
    await shoot(page, `device-code-${label}`);

    await signIn(page, url, 'alice', 'alice-password');
    await page.goto(`${url}/manage_tokens?revoked=1&expired=1`);
    await shoot(page, `tokens-${label}`);
    await page.getByLabel(/^Name/).fill(`deploy key (${label})`);
    await page.getByLabel('30 days').check();
    await page.getByLabel('Scopes').fill('read:packages');
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.locator('#new-token').waitFor();
    await shoot(page, `token-created-${label}`);
    await page.goto(`${url}/account`);
    await shoot(page, `account-${label}`);
    await context.clearCookies();

    await signIn(page, url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${url}/admin/users`);
    await shoot(page, `admin-users-${label}`);
    await page.goto(`${url}/admin/users/alice`);
    await shoot(page, `admin-user-${label}`);
    await page.goto(`${url}/admin/revoke-all`);
    await shoot(page, `admin-revoke-all-${label}`);
    await context.close();
  }
} finally {
  await browser.close();
  await gateway.close();
}
