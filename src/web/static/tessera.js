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
