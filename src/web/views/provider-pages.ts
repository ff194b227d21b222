/**
 * The pages oidc-provider shows itself (device code entry and confirmation, logout, errors),
 * in Tessera's look. `form` arguments are oidc-provider's own markup (hidden fields and its
 * anti-CSRF token), inserted as is.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, raw } from '../html.js';
import { PAGE_MESSAGES } from '../../http/errors.js';
import { CLI_CLIENT_ID } from '../../oauth/clients-metadata.js';
import type { ProviderPages } from '../../oauth/provider.js';
import { renderPage } from './layout.js';
import { formatInstant, relativeTo } from './time-format.js';

const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? 'an application';

/**
 * oidc-provider's form holds a hidden anti-CSRF input first, then the code box: the label and id
 * go on the input named user_code, so screen readers announce the field a person types into.
 */
const labelCodeBox = (form: string) => form.replace(/<input(?=[^>]*\bname="user_code")/, '<label for="user_code">Code</label><input id="user_code" autocapitalize="characters"');

export async function renderDeviceInput(ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: Error & { userCode?: string }): Promise<void> {
  const message = !err
    ? ''
    : err.userCode || err.name === 'NoCodeError'
      ? 'That code is not valid or has expired. Check the code on your device and try again.'
      : err.name === 'AbortedError'
        ? 'The sign-in request was cancelled.'
        : 'The request could not be processed. Start again from your device.';
  renderPage(ctx, {
    title: 'Connect a device',
    status: err ? 400 : 200,
    body: html`<section class="card narrow">
  <h1>Connect a device</h1>
  ${message ? html`<p class="error" role="alert">${message}</p>` : html`<p>Enter the code shown on your device or terminal.</p>`}
  ${raw(labelCodeBox(form))}
  <div class="actions"><button type="submit" form="op.deviceInputForm">Continue</button></div>
</section>`,
  });
}

/** What a device code asks for, in words: a CLI login is the user's full rights. */
function grantDescription(clientId: string | undefined, scope: string): string {
  if (clientId === CLI_CLIENT_ID) return 'a full sign-in as you: everything you can do in Tessera, including creating tokens';
  const words = scope.split(' ').filter((s) => s && s !== 'openid');
  return words.length ? `your identity and: ${words.join(', ')}` : 'your identity';
}

/**
 * The approval page states what is granted, to which client, and where and when the request
 * came from (RFC 8628 §5.4, remote phishing): a code someone sent you is not yours to approve.
 */
export async function renderDeviceConfirm(ctx: KoaContextWithOIDC, form: string, _client: unknown, info: unknown, userCode: string): Promise<void> {
  const device = (info ?? {}) as { ip?: string; ua?: string };
  const code = ctx.oidc.entities.DeviceCode as { iat?: number; scope?: string; params?: { scope?: string } } | undefined;
  const scope = String(code?.params?.scope ?? code?.scope ?? '');
  const requestedAt = typeof code?.iat === 'number' ? code.iat * 1000 : undefined;
  renderPage(ctx, {
    title: 'Confirm the device',
    body: html`<section class="card narrow">
  <h1>Confirm the device</h1>
  <p><strong>${clientName(ctx)}</strong> asks for ${grantDescription(ctx.oidc.client?.clientId, scope)}.</p>
  <dl class="details" id="device-request">
    <dt>Application</dt><dd>${clientName(ctx)} (${ctx.oidc.client?.clientId ?? 'unknown'})</dd>
    <dt>Requested from</dt><dd>${device.ip ?? 'unknown address'}${device.ua ? html` — ${device.ua}` : ''}</dd>
    <dt>Requested at</dt><dd>${requestedAt ? html`${formatInstant(requestedAt)} (${relativeTo(requestedAt, Date.now())})` : 'unknown'}</dd>
  </dl>
  <p>Continue only if you started this yourself, just now, and your device shows this code:</p>
  <p class="code" id="user-code">${userCode}</p>
  ${raw(form)}
  <div class="actions">
    <button type="submit" form="op.deviceConfirmForm">Continue</button>
    <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">Cancel</button>
  </div>
</section>`,
  });
}

/** Too many wrong codes from this browser, address or the whole gateway. */
export function renderDeviceThrottled(ctx: Parameters<typeof renderPage>[0], retryAfterSeconds: string): void {
  renderPage(ctx, {
    title: 'Too many wrong codes',
    status: 429,
    body: html`<section class="card narrow"><h1>Too many wrong codes</h1><p class="error" role="alert">Too many wrong codes were entered. Wait ${retryAfterSeconds} seconds, then check the code on your device and try again.</p></section>`,
  });
}

/** A code posted without the page's session (no cookie): nothing to check it against. */
export function renderDeviceStartAgain(ctx: Parameters<typeof renderPage>[0]): void {
  renderPage(ctx, {
    title: 'Connect a device',
    status: 400,
    body: html`<section class="card narrow"><h1>Connect a device</h1><p class="error" role="alert">This form has expired. <a href="/oauth2/device">Open the page again</a> and enter the code shown on your device.</p></section>`,
  });
}

export async function renderDeviceSuccess(ctx: KoaContextWithOIDC): Promise<void> {
  renderPage(ctx, {
    title: 'Device connected',
    body: html`<section class="card narrow"><h1>Device connected</h1><p class="notice" role="status">${clientName(ctx)} is signed in. You can close this page and return to your device.</p></section>`,
  });
}

export async function renderLogout(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  renderPage(ctx, {
    title: 'Sign out',
    formsLeaveSite: true,
    body: html`<section class="card narrow">
  <h1>Sign out of Tessera?</h1>
  ${raw(form)}
  <div class="actions">
    <button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
    <button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
  </div>
</section>`,
  });
}

export async function renderLoggedOut(ctx: KoaContextWithOIDC): Promise<void> {
  renderPage(ctx, { title: 'Signed out', body: html`<section class="card narrow"><h1>Signed out</h1><p>You have signed out.</p><p><a href="/login">Sign in again</a></p></section>` });
}

/** Protocol errors shown to a person: the error code and description, never a stack. */
export async function renderProviderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }): Promise<void> {
  const { title, heading, sentence } = PAGE_MESSAGES.provider_error;
  renderPage(ctx, {
    title,
    status: ctx.status >= 400 ? ctx.status : 400,
    body: html`<section class="card narrow">
  <h1>${heading}</h1>
  <p class="error" role="alert"><strong>${out.error ?? 'error'}</strong>: ${out.error_description ?? 'the request could not be completed'}</p>
  <p>${sentence}</p>
</section>`,
  });
}

/** Everything above, as the OpenID Provider takes it (the composition root hands it over). */
export const providerPages: ProviderPages = {
  deviceInput: renderDeviceInput,
  deviceConfirm: renderDeviceConfirm,
  deviceSuccess: renderDeviceSuccess,
  logout: renderLogout,
  loggedOut: renderLoggedOut,
  error: renderProviderError,
  deviceStartAgain: renderDeviceStartAgain,
  deviceThrottled: renderDeviceThrottled,
};
