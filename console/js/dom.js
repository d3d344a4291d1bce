// Building the console: what otpd's two pages build alike comes from ../common/dom.js (web/ in
// the source tree); what is the console's own is here.
import {h, uid} from '../common/dom.js';

export {announce, clear, h, liveRegion, showError, showOk, table, uid} from '../common/dom.js';

// A labelled form field: returns {row, input}.
export function field(label, input, hint) {
  input.id = input.id || uid('f');
  const hintEl = hint ? h('p', {class: 'hint', id: uid('hint')}, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  const row = h('div', {class: 'field'}, h('label', {for: input.id}, label), input, hintEl);
  return {row, input, hint: hintEl};
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
