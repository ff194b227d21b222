/**
 * Real-browser tests: playwright-core drives Debian's chromium (never a downloaded browser).
 * `useChromium()` launches it once per test file and gives each test fresh contexts (their own
 * cookies), closed after the test. Confirmation dialogs (`data-confirm`) are accepted and
 * recorded, as a person clicking OK would.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export const CHROMIUM_PATH = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface TestPage extends Page {
  /** Messages of the confirm() dialogs the page showed, in order. */
  dialogs: string[];
}

export function useChromium(): { newPage(options?: { viewport?: { width: number; height: number } }): Promise<TestPage> } {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async newPage(options = {}) {
      const context = await browser!.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
      contexts.push(context);
      const page = (await context.newPage()) as TestPage;
      // Fail with Playwright's message (which element, which state) well before the test times out.
      page.setDefaultTimeout(5000);
      page.dialogs = [];
      page.on('dialog', (dialog) => {
        page.dialogs.push(dialog.message());
        void dialog.accept();
      });
      return page;
    },
  };
}

/** Signs in through the web form and waits for the token page. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL(`${baseUrl}/manage_tokens`), page.getByRole('button', { name: 'Sign in' }).click()]);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your access tokens');
}

/** The browser session cookie's value, for checks against the API. */
export async function sessionCookie(page: Page): Promise<string | undefined> {
  return (await page.context().cookies()).find((c) => c.name === 'tessera_session')?.value;
}
