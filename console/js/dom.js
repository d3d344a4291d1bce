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

// A labelled form field: returns {row, input}.
export function field(label, input, hint) {
  input.id = input.id || uid('f');
  const hintEl = hint ? h('p', {class: 'hint', id: uid('hint')}, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const row = h('div', {class: 'field'}, h('label', {for: input.id}, label), input, hintEl);
  return {row, input, hint: hintEl};
}

// A table with a caption, headings and rows of cells (strings or nodes).
export function table(caption, headings, rows, {empty = 'Nothing to show.'} = {}) {
  if (rows.length === 0) return h('p', {class: 'empty'}, empty);
  return h('div', {class: 'table-wrap'},
    h('table', {},
      h('caption', {class: caption.hidden ? 'visually-hidden' : ''}, caption.text ?? caption),
      h('thead', {}, h('tr', {}, headings.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => h('td', {
        // On a phone's width the rows stack and each cell shows its heading (console.css).
        'data-label': typeof headings[i] === 'string' ? headings[i] : '',
      }, c)))))));
}

// Announces `text` to screen readers through the page's live region.
export function announce(text) {
  const s = document.getElementById('status');
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 30);
}

// A region whose changes are read out: where results of actions appear.
export function liveRegion(extraClass = '') {
  return h('div', {class: `result ${extraClass}`, 'aria-live': 'polite', role: 'status'});
}

// Shows an error next to what caused it.
export function showError(region, err) {
  clear(region);
  region.className = 'result error';
  region.append(h('p', {}, err.describe ? err.describe() : String(err.message || err)));
  if (err.requestId) region.append(h('p', {class: 'note'}, `Request id ${err.requestId}`));
}

export function showOk(region, ...children) {
  clear(region);
  region.className = 'result ok';
  region.append(...children.map((c) => (c instanceof Node ? c : h('p', {}, c))));
}

// A value shown once, with a copy button.
export function secretBox(label, value, name) {
  const id = uid('secret');
  const out = h('output', {id, class: 'secret', dataset: {secret: name}}, value);
  const copy = h('button', {type: 'button', class: 'secondary', 'aria-describedby': id,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(value);
        copy.textContent = 'Copied';
      } catch {
        const r = document.createRange();
        r.selectNodeContents(out);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        copy.textContent = 'Selected: press Ctrl+C';
      }
    }}, 'Copy');
  return h('div', {class: 'secret-box'}, h('p', {}, h('strong', {}, label)), out, copy,
    h('p', {class: 'hint'}, 'Shown this once: copy it now.'));
}

// A modal dialog (the native <dialog>, which keeps keyboard focus inside and closes on Escape).
// Resolves true when confirmed.
export function confirmDialog(title, body, confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const ok = h('button', {type: 'button', class: 'danger'}, confirmLabel);
    const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
    const dlg = h('dialog', {'aria-labelledby': titleId},
      h('h2', {id: titleId}, title), body, h('div', {class: 'actions'}, ok, cancel));
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}
