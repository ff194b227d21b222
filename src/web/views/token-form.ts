/**
 * The "generate a token" form and its mapping to `PatService.create` input. The form only
 * chooses; the service decides (lifetime limits, scopes the caller may grant, the creator
 * permission), and its error is shown back next to the form with what was typed.
 */
import { formatDuration, parseDuration } from '../../config/duration.js';
import type { TesseraConfig } from '../../config/schema.js';
import { InvalidRequest } from '../../errors.js';
import type { Fields } from '../../http/body.js';
import type { CreateTokenInput } from '../../tokens/pat-service.js';
import { fieldErrors, type FieldPatterns } from './field-errors.js';
import { html, type SafeHtml } from '../html.js';
import { formatInstant, formatSpan } from './time-format.js';
import type { DeclaredScope, ScopeVocabulary } from '../../tokens/scope-vocabulary.js';

const DAY = 86_400_000;

/** What the form sent, kept as typed so a refused form comes back filled in. */
export interface TokenFormValues {
  name?: string;
  description?: string;
  expiration?: string;
  expires?: string;
  expires_on?: string;
  sliding_window?: string;
  max_lifetime?: string;
  scopes?: string;
  /** Declared scopes ticked, from the `scope:<name>` checkboxes. */
  checked?: string[];
}

/** A declared scope's checkbox; one field per scope because the form body takes no repeats. */
const CHECKBOX_PREFIX = 'scope:';

const FIELDS = ['name', 'description', 'expiration', 'expires', 'expires_on', 'sliding_window', 'max_lifetime', 'scopes'] as const;

export function tokenFormValues(form: Fields): TokenFormValues {
  const values: TokenFormValues = {};
  for (const field of FIELDS) if (typeof form[field] === 'string') values[field] = form[field];
  const checked = Object.keys(form).filter((k) => k.startsWith(CHECKBOX_PREFIX)).map((k) => k.slice(CHECKBOX_PREFIX.length));
  if (checked.length) values.checked = checked;
  return values;
}

/** Browsers send textarea line breaks as CRLF; the service accepts LF and tab only. */
export const normaliseLines = (text: string) => text.replace(/\r\n?/g, '\n');

export function tokenInputFromForm(form: Fields): CreateTokenInput {
  const values = tokenFormValues(form);
  const input: CreateTokenInput = {
    name: values.name ?? '',
    description: normaliseLines(values.description ?? ''),
    scopes: [...(values.checked ?? []), ...(values.scopes ?? '').trim().split(/\s+/).filter(Boolean)],
  };
  if (values.expiration === 'sliding') {
    return { ...input, expiration: 'sliding', sliding_window: values.sliding_window, max_lifetime: values.max_lifetime };
  }
  if (values.expiration !== undefined && values.expiration !== 'hard') return { ...input, expiration: values.expiration };
  if (values.expires === 'custom') {
    if (!values.expires_on) throw new InvalidRequest('choose the date the token expires');
    // A date picker gives a day; the token lasts to the end of it (UTC, as the form says).
    const at = /^\d{4}-\d{2}-\d{2}$/.test(values.expires_on) ? `${values.expires_on}T23:59:59.999Z` : values.expires_on;
    return { ...input, expiration: 'hard', expires_at: at };
  }
  return { ...input, expiration: 'hard', expires_in: values.expires };
}

interface Choice {
  value: string;
  label: string;
}

const PRESETS: Choice[] = [
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
];

const WINDOWS = ['1d', '7d', '14d', '30d'];
const LIFETIMES = ['30d', '90d', '180d', '365d'];

/** Duration choices no longer than `max`, always including the configured default. */
function durationOptions(values: string[], fallback: number, max: number, chosen: string | undefined): SafeHtml[] {
  const choices = values.map((v) => parseDuration(v)!).filter((ms) => ms <= max);
  if (!choices.includes(fallback)) choices.push(fallback);
  choices.sort((a, b) => a - b);
  const selected = (chosen !== undefined ? parseDuration(chosen) : undefined) ?? fallback;
  return choices.map((ms) => html`<option value="${formatDuration(ms)}"${ms === selected ? html` selected` : ''}>${formatSpan(ms)}</option>`);
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface TokenFormView {
  action: string;
  csrf: string;
  heading: string;
  /** e.g. "for alice" on the admin page. */
  intro?: string;
  limits: TesseraConfig['tokens'];
  now: number;
  values?: TokenFormValues;
  error?: string;
  /** The declared scope vocabulary (config `scopes:`); without one, a free scope field only. */
  vocabulary?: Pick<ScopeVocabulary, 'declared' | 'allowUndeclared'>;
}

/**
 * Declared scopes as checkboxes with their descriptions (as GitHub and GitLab offer them); the
 * free field only where something else may be typed: undeclared scopes allowed, or a declared
 * pattern (`resource:<id>:r|w|rw`) whose id only the person knows.
 */
function scopeFields(view: TokenFormView, errors: ReturnType<typeof fieldErrors>): SafeHtml {
  const values = view.values ?? {};
  const declared = view.vocabulary?.declared ?? [];
  const exact = declared.filter((d) => !d.pattern);
  const patterns = declared.filter((d) => d.pattern);
  const free = !view.vocabulary || view.vocabulary.allowUndeclared || patterns.length > 0;
  const box = (d: DeclaredScope, i: number) =>
    html`<label class="choice" for="scope-${i}"><input type="checkbox" id="scope-${i}" name="${CHECKBOX_PREFIX}${d.name}" value="1"${values.checked?.includes(d.name) ? html` checked` : ''}><span><code class="scope">${d.name}</code> <span class="hint">${d.description}</span></span></label>`;
  const hint = patterns.length
    ? html`separated by spaces, of the form ${patterns.map((d, i) => html`${i ? ', ' : ''}<code>${d.name}</code> (${d.description})`)}`
    : html`separated by spaces, e.g. <code>read:packages resource:repo-42:r</code>`;
  return html`${exact.length ? html`<fieldset id="token-scope-choices"><legend>Scopes <span class="hint">tick none for the full rights of the account</span></legend>${exact.map(box)}</fieldset>` : ''}
  ${free
    ? html`<label for="token-scopes">${exact.length ? 'Other scopes' : 'Scopes'} <span class="hint">${hint}${exact.length ? '' : html`; leave empty for the full rights of the account`}</span></label>
  <input id="token-scopes" name="scopes" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" value="${values.scopes ?? ''}"${errors.attributes('token-scopes')}>`
    : ''}
  ${errors.after('token-scopes')}`;
}

/**
 * The date the token will get, shown before it is generated: rendered here from the form's
 * current choices, and kept current by tessera.js as the choices change (same sentences).
 */
function expiryPreview(view: TokenFormView, expiration: 'hard' | 'sliding', preset: string): SafeHtml {
  const { limits, now } = view;
  const values = view.values ?? {};
  let text: string;
  if (expiration === 'sliding') {
    const window = parseDuration(values.sliding_window ?? '') ?? limits.defaultSlidingWindow;
    const lifetime = parseDuration(values.max_lifetime ?? '') ?? Math.min(limits.defaultMaxLifetime, limits.maxTtl);
    text = `Expires if unused for ${formatSpan(window)}, and on ${formatInstant(now + lifetime)} at the latest.`;
  } else if (preset === 'custom') {
    text = values.expires_on ? `Expires on ${values.expires_on} 23:59 UTC.` : 'Choose the date the token expires.';
  } else {
    text = `Expires on ${formatInstant(now + (parseDuration(preset) ?? limits.defaultTtl))}.`;
  }
  return html`<p class="expiry-preview" id="token-expiry-preview" data-expiry-preview aria-live="polite">${text}</p>`;
}

/** Which field a refusal of the token form is about (messages from PatService and this form). */
const TOKEN_FIELDS: FieldPatterns = {
  'token-name': /^name\b/i,
  'token-description': /^description\b/i,
  'token-expires-on': /^(expires_at|expires_in|choose the date)\b/i,
  'token-window': /^sliding_window\b/i,
  'token-max-lifetime': /^max_lifetime\b/i,
  'token-scopes': /^(scopes?|resource scopes|malformed scope|unknown scope|at most \d+ scopes|cannot grant|a scoped token)\b/i,
};

export function tokenForm(view: TokenFormView): SafeHtml {
  const { limits, now } = view;
  const errors = fieldErrors(view.error, TOKEN_FIELDS);
  const values = view.values ?? {};
  const expiration = values.expiration === 'sliding' ? 'sliding' : 'hard';
  const presets = PRESETS.filter((p) => parseDuration(p.value)! <= limits.maxTtl);
  const preset = values.expires ?? presets.find((p) => parseDuration(p.value) === limits.defaultTtl)?.value ?? presets.at(-1)?.value ?? 'custom';
  const radio = (name: string, value: string, checked: boolean, label: string | SafeHtml, id = `${name}-${value}`) =>
    html`<label class="choice" for="${id}"><input type="radio" id="${id}" name="${name}" value="${value}"${checked ? html` checked` : ''}><span>${label}</span></label>`;

  return html`<form method="post" action="${view.action}" class="token-form" id="new-token-form">
  <h2 id="new-token-heading">${view.heading}</h2>
  ${view.intro ? html`<p>${view.intro}</p>` : ''}
  ${errors.general ? html`<p class="error" role="alert" id="new-token-error">${errors.general}</p>` : ''}
  <input type="hidden" name="_csrf" value="${view.csrf}">
  <label for="token-name">Name <span class="hint">what the token is for, e.g. "laptop git"</span></label>
  <input id="token-name" name="name" type="text" maxlength="100" required autocomplete="off" value="${values.name ?? ''}"${errors.attributes('token-name')}>
  ${errors.after('token-name')}
  <label for="token-description">Description <span class="hint">optional</span></label>
  <textarea id="token-description" name="description" maxlength="1000"${errors.attributes('token-description')}>${values.description ?? ''}</textarea>
  ${errors.after('token-description')}

  <fieldset>
    <legend>Expiration</legend>
    ${radio('expiration', 'hard', expiration === 'hard', html`Fixed date <span class="hint">the token stops working at a set time</span>`)}
    ${radio('expiration', 'sliding', expiration === 'sliding', html`Auto-refresh <span class="hint">each use extends it, up to a maximum lifetime</span>`)}
  </fieldset>

  <fieldset class="when-hard">
    <legend>Expires after</legend>
    <div class="choice-row">
      ${presets.map((p) => radio('expires', p.value, preset === p.value, p.label))}
      ${radio('expires', 'custom', preset === 'custom', 'Custom date')}
    </div>
    <div class="when-custom">
      <label for="token-expires-on">Expiry date <span class="hint">the token ends at 23:59 UTC that day</span></label>
      <input id="token-expires-on" name="expires_on" type="date" min="${isoDay(now + DAY)}" max="${isoDay(now + limits.maxTtl)}" value="${values.expires_on ?? ''}"${errors.attributes('token-expires-on')}>
      ${errors.after('token-expires-on')}
    </div>
  </fieldset>

  <fieldset class="when-sliding">
    <legend>Auto-refresh</legend>
    <label for="token-window">Unused for this long, it expires</label>
    <select id="token-window" name="sliding_window"${errors.attributes('token-window')}>${durationOptions(WINDOWS, limits.defaultSlidingWindow, limits.maxTtl, values.sliding_window)}</select>
    ${errors.after('token-window')}
    <label for="token-max-lifetime">Expires in any case after</label>
    <select id="token-max-lifetime" name="max_lifetime"${errors.attributes('token-max-lifetime')}>${durationOptions(LIFETIMES, Math.min(limits.defaultMaxLifetime, limits.maxTtl), limits.maxTtl, values.max_lifetime)}</select>
    ${errors.after('token-max-lifetime')}
  </fieldset>

  ${scopeFields(view, errors)}
  ${expiryPreview(view, expiration, preset)}
  <div class="actions"><button type="submit">Generate token</button></div>
</form>`;
}
