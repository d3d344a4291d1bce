// The list of the user's sign-in methods, in the names people know, with Delete for the kinds a
// user may remove themselves.
import {del, enc, get} from './api.js';
import {announce, confirmDialog, fmtDate, h, liveRegion, showError} from './dom.js';

const PHONE_TYPES = {mobile: 'Mobile', alternateMobile: 'Alternate mobile', office: 'Office'};
// An app added but never confirmed with its first code does not sign in.
const APP_STATUS = {pending: 'not finished: it was never confirmed with a code',
  expired: 'not finished in time: delete it and add it again'};

// By Graph's @odata.type: the name shown, what identifies it, and its collection for DELETE.
const KINDS = {
  '#microsoft.graph.softwareOathAuthenticationMethod': {
    name: () => 'Authenticator app',
    detail: (m) => [m.displayName, APP_STATUS[m.status]].filter(Boolean).join(', '),
    collection: 'softwareOathMethods'},
  '#microsoft.graph.hardwareOathAuthenticationMethod': {
    name: () => 'Hardware token',
    detail: (m) => {
      const d = m.device || {};
      return [d.displayName, d.serialNumber && `serial ${d.serialNumber}`,
        d.status && d.status !== 'activated' ? 'not active: ask your administrator' : '']
        .filter(Boolean).join(', ');
    }},
  '#microsoft.graph.phoneAuthenticationMethod': {
    name: (m) => `Phone (${PHONE_TYPES[m.phoneType] || m.phoneType || 'phone'})`,
    detail: (m) => m.phoneNumber || '',
    collection: 'phoneMethods'},
  '#microsoft.graph.emailAuthenticationMethod': {
    name: () => 'Email',
    detail: (m) => m.emailAddress || '',
    collection: 'emailMethods'},
  '#microsoft.graph.passwordAuthenticationMethod': {
    name: () => 'Password',
    detail: () => ''},
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': {
    name: () => 'Temporary Access Pass',
    detail: (m) => (m.isUsable === false ? 'No longer usable' : 'Usable')},
};

export function kindOf(m) {
  return KINDS[m['@odata.type']] ||
    {name: () => (m['@odata.type'] || 'Method').replace(/^#microsoft\.graph\./, ''),
      detail: () => ''};
}

export async function loadMethods() {
  return (await get('/v1.0/me/authentication/methods')).body.value || [];
}

// The panel listing `methods`; `rerender()` runs after a deletion.
export function renderMethods(methods, rerender) {
  const result = liveRegion();
  const items = methods.map((m) => methodItem(m, result, rerender));
  return h('section', {class: 'panel', 'aria-labelledby': 'methods-title'},
    h('h2', {id: 'methods-title'}, 'Your sign-in methods'),
    items.length ? h('ul', {class: 'methods', id: 'methods'}, items) :
      h('p', {class: 'empty', id: 'methods'}, 'You have no sign-in methods yet.'),
    result);
}

function methodItem(m, result, rerender) {
  const kind = kindOf(m);
  const name = kind.name(m);
  const detail = kind.detail(m);
  const created = m.createdDateTime ? `Added ${fmtDate(m.createdDateTime)}` : '';
  const li = h('li', {dataset: {kind: m['@odata.type'] || '', id: m.id || ''}},
    h('span', {class: 'method-kind'}, name),
    h('span', {class: 'method-detail'}, detail),
    h('span', {class: 'method-date'}, created));
  if (kind.collection && m.id) {
    li.append(h('button', {type: 'button', class: 'danger',
      'aria-label': `Delete ${name}${detail ? ` ${detail}` : ''}`,
      onclick: async () => {
        const sure = await confirmDialog(`Delete ${name}?`,
          `You will no longer be able to sign in with ${detail ? `${name} ${detail}` : name}.`,
          'Delete');
        if (!sure) return;
        try {
          await del(`/v1.0/me/authentication/${kind.collection}/${enc(m.id)}`);
          announce(`${name} deleted`);
          await rerender();
        } catch (err) {
          showError(result, err);
        }
      }}, 'Delete'));
  }
  return li;
}
