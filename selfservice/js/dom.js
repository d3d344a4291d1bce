// Building the page. Text always goes in as text (never as HTML), so nothing the API answers can
// become markup or script.

// h('button', {type: 'button', onclick: f, class: 'x'}, 'Label', child...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A labelled field with a hint and a place for its own error: {row, input, error}. The error is
// part of the input's description, so a screen reader reads it with the field.
export function field(label, input, hint) {
  input.id = input.id || uid('f');
  const hintEl = hint ? h('p', {class: 'hint', id: uid('hint')}, hint) : null;
  const error = h('p', {class: 'field-error', id: uid('err'), 'aria-live': 'polite'});
  input.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  const row = h('div', {class: 'field'}, h('label', {for: input.id}, label), input, hintEl, error);
  return {row, input, error};
}

// Shows `text` as the field's error (or clears it with '').
export function fieldError(f, text) {
  f.error.textContent = text;
  f.input.setAttribute('aria-invalid', text ? 'true' : 'false');
}

// Announces `text` to screen readers through the page's live region.
export function announce(text) {
  const s = document.getElementById('status');
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 30);
}

// A region whose changes are read out: where results of actions appear.
export function liveRegion() {
  return h('div', {class: 'result', 'aria-live': 'polite', role: 'status'});
}

export function showError(region, err) {
  clear(region);
  region.className = 'result error';
  region.append(h('p', {}, err.describe ? err.describe() : String(err.message || err)));
}

export function showOk(region, ...children) {
  clear(region);
  region.className = 'result ok';
  region.append(...children.map((c) => (c instanceof Node ? c : h('p', {}, c))));
}

// A table with a caption, headings and rows of cells; on a phone's width each row is a card
// whose cells show their heading (selfservice.css).
export function table(caption, headings, rows, empty) {
  if (rows.length === 0) return h('p', {class: 'empty'}, empty);
  return h('div', {class: 'table-wrap'},
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headings.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) =>
        h('td', {'data-label': headings[i]}, c)))))));
}

// A modal dialog (the native <dialog>: focus stays inside, Escape closes it). `build(close)`
// makes its content; `close(value)` resolves the promise; Escape resolves `undefined`.
export function modal(title, build) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const opener = document.activeElement;
    const dlg = h('dialog', {'aria-labelledby': titleId}, h('h2', {id: titleId}, title));
    const close = (value) => {
      dlg.close();
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    dlg.append(build(close));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select, button.secondary, button');
    if (first) first.focus();
  });
}

// Resolves true when the user confirms; the safe choice (Cancel) has the focus.
export function confirmDialog(title, text, confirmLabel) {
  return modal(title, (close) => h('div', {},
    h('p', {}, text),
    h('div', {class: 'actions'},
      h('button', {type: 'button', class: 'secondary', onclick: () => close(false)}, 'Cancel'),
      h('button', {type: 'button', class: 'danger', onclick: () => close(true)}, confirmLabel))))
    .then((v) => v === true);
}

export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, {year: 'numeric', month: 'long', day: 'numeric'});
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit'});
}
