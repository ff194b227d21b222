// Progressive enhancement only: every page works without this file.
document.addEventListener('click', (event) => {
  const copy = event.target.closest('[data-copy]');
  if (copy) {
    const target = document.getElementById(copy.getAttribute('data-copy'));
    if (target && navigator.clipboard) {
      navigator.clipboard.writeText(target.textContent.trim()).then(() => { copy.textContent = 'Copied'; });
    }
  }
});
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) event.preventDefault();
});
