// Building Security info: what otpd's two pages build alike comes from ../common/dom.js (web/
// in the source tree); what is Security info's own is here.
import {h, uid} from '../common/dom.js';

export {announce, clear, h, liveRegion, showError, showOk, table, uid} from '../common/dom.js';

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
