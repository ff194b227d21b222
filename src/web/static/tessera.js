// Progressive enhancement only: every page works without this file.

// A page shown in answer to a POST (a new token's one-time secret) names the list it belongs to:
// with that address, reloading asks for the list again instead of re-posting the form.
const replaceUrl = document.querySelector('[data-replace-url]');
if (replaceUrl && window.history.replaceState) window.history.replaceState(null, '', replaceUrl.getAttribute('data-replace-url'));

// Copy buttons need script, so they stay hidden without it.
for (const button of document.querySelectorAll('button[data-copy][hidden]')) button.hidden = false;

function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

document.addEventListener('click', (event) => {
  const copy = event.target.closest('[data-copy]');
  if (!copy) return;
  const target = document.getElementById(copy.getAttribute('data-copy'));
  if (!target) return;
  const text = target.textContent.trim();
  // The Clipboard API exists only on HTTPS (and loopback); elsewhere, select the text for Ctrl+C.
  const copied = navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject(new Error('no clipboard'));
  copied.then(
    () => { copy.textContent = 'Copied'; },
    () => { selectContents(target); copy.textContent = 'Selected: press Ctrl+C'; },
  );
});

document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) event.preventDefault();
});

// The token form's expiry preview (data-expiry-preview): the server renders it for the form as
// sent; this keeps it current while the person changes the choices. Same sentences as
// src/web/views/token-form.ts, times in UTC like every date on the pages.
const UNIT_MS = { s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };
const durationMs = (text) => {
  const match = /^(\d+)([smhdw])$/.exec(text || '');
  return match ? Number(match[1]) * UNIT_MS[match[2]] : undefined;
};
const utc = (ms) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function expiryText(form) {
  const data = new FormData(form);
  if (data.get('expiration') === 'sliding') {
    const window = form.querySelector('select[name=sliding_window]');
    const lifetime = durationMs(data.get('max_lifetime'));
    if (!window || lifetime === undefined) return undefined;
    return `Expires if unused for ${window.selectedOptions[0].textContent.trim()}, and on ${utc(Date.now() + lifetime)} at the latest.`;
  }
  if (data.get('expires') === 'custom') {
    const day = data.get('expires_on');
    return day ? `Expires on ${day} 23:59 UTC.` : 'Choose the date the token expires.';
  }
  const ms = durationMs(data.get('expires'));
  return ms === undefined ? undefined : `Expires on ${utc(Date.now() + ms)}.`;
}

function updateExpiryPreview(form) {
  const preview = form && form.querySelector('[data-expiry-preview]');
  if (!preview) return;
  const text = expiryText(form);
  if (text !== undefined) preview.textContent = text;
}

for (const preview of document.querySelectorAll('[data-expiry-preview]')) updateExpiryPreview(preview.closest('form'));
for (const type of ['change', 'input']) document.addEventListener(type, (event) => updateExpiryPreview(event.target.form));
