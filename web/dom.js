// Building otpd's pages (the console and Security info), shared by both: served to each under
// its own path (<page>/common/dom.js). Text always goes in as text (never as HTML), so nothing an
// API answers can become markup or script.

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

// A table with a caption, headings and rows of cells (strings or nodes).
export function table(caption, headings, rows, {empty = 'Nothing to show.'} = {}) {
  if (rows.length === 0) return h('p', {class: 'empty'}, empty);
  return h('div', {class: 'table-wrap'},
    h('table', {},
      h('caption', {class: caption.hidden ? 'visually-hidden' : ''}, caption.text ?? caption),
      h('thead', {}, h('tr', {}, headings.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => h('td', {
        // On a phone's width the rows stack and each cell shows its heading (the page's sheet).
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
