// The second factor the user prefers to be asked for (Graph's signInPreferences), chosen among
// the methods they have.
import {get, patch} from './api.js';
import {field, h, liveRegion, showError, showOk} from './dom.js';

const PATH = '/v1.0/me/authentication/signInPreferences';
const KEY = 'userPreferredMethodForSecondaryAuthentication';

// The choices `methods` allow, in the order they are offered.
function choices(methods) {
  const out = [['none', 'No preference']];
  const type = (t) => methods.some((m) => m.phoneType === t);
  const oath = methods.some((m) => m['@odata.type'] ===
    '#microsoft.graph.hardwareOathAuthenticationMethod' ||
    (m['@odata.type'] === '#microsoft.graph.softwareOathAuthenticationMethod' &&
      m.status === 'active'));
  if (oath) out.push(['oath', 'A code from my authenticator app or hardware token']);
  if (type('mobile')) {
    out.push(['sms', 'A code texted to my mobile'], ['voiceMobile', 'A call to my mobile']);
  }
  if (type('alternateMobile')) out.push(['voiceAlternateMobile', 'A call to my alternate mobile']);
  if (type('office')) out.push(['voiceOffice', 'A call to my office phone']);
  return out;
}

export async function loadPreference() {
  return (await get(PATH)).body[KEY] || 'none';
}

export function renderDefaultMethod(methods, current) {
  const select = h('select', {name: 'default-method', id: 'default-method'},
    choices(methods).map(([value, label]) =>
      h('option', {value, selected: value === current}, label)));
  const f = field('Default sign-in method', select,
    'What you are asked for first when you sign in.');
  const result = liveRegion();
  const form = h('form', {novalidate: true, id: 'default-method-form'}, f.row,
    h('button', {type: 'submit'}, 'Save'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await patch(PATH, {[KEY]: select.value});
      showOk(result, 'Your default sign-in method was saved.');
    } catch (err) { showError(result, err); }
  });
  return h('section', {class: 'panel', 'aria-labelledby': 'default-title'},
    h('h2', {id: 'default-title'}, 'Default sign-in method'), form);
}
