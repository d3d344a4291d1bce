// A user's authentication methods, the toolbar actions on the user, and adding a method.
import {del, get, post, userPath, enc} from '../api.js';
import {announce, clear, confirmDialog, fmtTime, h, liveRegion, secretBox, showError, showOk,
  table} from '../dom.js';
import {NEEDS, can, canChangeUser, needsNote} from '../roles.js';
import {renderAddMethod} from './add_method.js';

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

// @odata.type -> [name shown, collection under /authentication/ for DELETE (or null)].
const KINDS = {
  '#microsoft.graph.hardwareOathAuthenticationMethod': ['Hardware OATH token',
    'hardwareOathMethods'],
  '#microsoft.graph.softwareOathAuthenticationMethod': ['Authenticator app (software OATH)',
    'softwareOathMethods'],
  '#microsoft.graph.phoneAuthenticationMethod': ['Phone', 'phoneMethods'],
  '#microsoft.graph.emailAuthenticationMethod': ['Email', 'emailMethods'],
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': ['Temporary Access Pass',
    'temporaryAccessPassMethods'],
  '#microsoft.graph.passwordAuthenticationMethod': ['Password', null],
};

export function kindOf(m) {
  return KINDS[m['@odata.type']] || [m['@odata.type'] || 'Method', null];
}

export function methodDetail(m) {
  const t = m['@odata.type'] || '';
  if (t.includes('hardwareOath')) {
    const d = m.device || {};
    return `Serial ${d.serialNumber || '?'}, ${d.status || 'unknown status'}`;
  }
  if (t.includes('softwareOath')) return `${m.displayName || 'App'}, ${m.status || ''}`.trim();
  if (t.includes('phone')) {
    const type = {alternateMobile: 'alternate mobile'}[m.phoneType] || m.phoneType;
    return `${m.phoneNumber} (${type})`;
  }
  if (t.includes('email')) return m.emailAddress;
  if (t.includes('temporaryAccessPass')) {
    return `${m.lifetimeInMinutes} minutes${m.isUsableOnce ? ', one use' : ''}` +
      `${m.methodUsabilityReason ? `, ${m.methodUsabilityReason}` : ''}`;
  }
  if (t.includes('password')) return 'Set (never shown)';
  return '';
}

function lastUsed(m) {
  return fmtTime(m.lastUsedDateTime || (m.device && m.device.lastUsedDateTime) || null);
}

// What "Require re-register MFA" will do, computed from the methods: hardware tokens deactivated
// (they stay assigned); phones, authenticator apps and software tokens deleted.
export function reregisterPlan(methods) {
  const deactivate = [];
  const remove = [];
  for (const m of methods) {
    const t = m['@odata.type'] || '';
    if (t.includes('hardwareOath')) {
      if (!m.device || m.device.status === 'activated') deactivate.push(m);
    } else if (t.includes('phone') || t.includes('softwareOath')) {
      remove.push(m);
    }
  }
  return {deactivate, remove};
}

export async function requireReregister(upn) {
  return (await post(`${userPath(upn)}/authentication/requireReregistration`, {})).body;
}

export async function revokeSessions(upn) {
  return (await post(`${userPath(upn)}/authentication/revokeMfaSessions`, {})).body;
}

export function reregisterResult(r) {
  const items = [
    ...(r.deactivatedDevices || []).map((d) => `Deactivated hardware token ${d.serialNumber}`),
    ...(r.deletedMethods || []).map((m) => `Deleted ${kindOf(m)[0]}${m.detail ? `: ${m.detail}` : ''}`),
  ];
  return items.length ? h('ul', {}, items.map((x) => h('li', {}, x))) :
    h('p', {}, 'There was nothing to deactivate or delete.');
}

export async function renderUser(root, upn) {
  const [user, methods] = await Promise.all([
    get(userPath(upn)).then((r) => r.body),
    get(`${userPath(upn)}/authentication/methods`).then((r) => r.body.value || []),
  ]);
  const result = liveRegion();
  result.id = 'user-result';
  const rerender = async () => { clear(root); await renderUser(root, upn); };

  root.append(
    h('p', {class: 'crumbs'}, h('a', {href: '#/users'}, 'Users'), ' › ', upn),
    h('h1', {}, `${user.displayName || upn}: Authentication methods`),
    h('dl', {class: 'facts'},
      h('dt', {}, 'User principal name'), h('dd', {}, upn),
      h('dt', {}, 'Registration required'), h('dd', {id: 'registration-required'},
        user.mfaRegistrationRequired ? 'Yes' : 'No'),
      h('dt', {}, 'Locked until'), h('dd', {}, fmtTime(user.lockedUntilDateTime)),
      h('dt', {}, 'Roles'), h('dd', {}, (user.roles || []).join(', ') || '—')));

  const manage = canChangeUser(user);
  if (manage) {
    root.append(toolbar(upn, user, methods, result, rerender));
  } else if (can.manageMethods()) {
    root.append(needsNote('methods-needs', `${upn} holds an administrative role: changing ` +
      'their methods', NEEDS.manageAdministrators));
  } else {
    root.append(needsNote('methods-needs', 'Changing methods', NEEDS.manageMethods));
  }
  root.append(result);

  const rows = methods.map((m) => {
    const [name, collection] = kindOf(m);
    const cells = [name, methodDetail(m), fmtTime(m.createdDateTime), lastUsed(m)];
    if (manage) {
      cells.push(collection ? h('button', {type: 'button', class: 'danger small',
        'aria-label': `Delete ${name} ${methodDetail(m)}`,
        onclick: async () => {
          const yes = await confirmDialog(`Delete this ${name.toLowerCase()}?`,
            h('p', {}, `${methodDetail(m)} will no longer work for ${upn}.`), 'Delete');
          if (!yes) return;
          try {
            await del(`${userPath(upn)}/authentication/${collection}/${enc(m.id)}`);
            announce(`${name} deleted`);
            await rerender();
          } catch (err) { showError(result, err); }
        }}, collection === 'hardwareOathMethods' ? 'Unassign' : 'Delete') : '');
    }
    return cells;
  });
  const headings = ['Type', 'Detail', 'Created', 'Last used'];
  if (manage) headings.push(h('span', {class: 'visually-hidden'}, 'Actions'));
  root.append(h('h2', {}, 'Usable authentication methods'),
    table('Authentication methods', headings, rows, {empty: 'This user has no methods yet.'}));
  if (manage) root.append(renderAddMethod(upn, methods, rerender));
}

// The actions on the user. Those that take something away are styled as dangerous; Unlock is
// offered only while the user is locked out.
function toolbar(upn, user, methods, result, rerender) {
  const reset = h('button', {type: 'button', id: 'reset-password', class: 'secondary'},
    'Reset password');
  const rereg = h('button', {type: 'button', id: 'require-reregister', class: 'danger'},
    'Require re-register MFA');
  const revoke = h('button', {type: 'button', id: 'revoke-sessions', class: 'danger'},
    'Revoke MFA sessions');
  const unlock = user.lockedUntilDateTime ?
    h('button', {type: 'button', id: 'unlock'}, 'Unlock') : null;

  reset.addEventListener('click', async () => {
    const yes = await confirmDialog('Reset password?',
      h('p', {}, `A temporary password is generated for ${upn}; they must change it at their ` +
        'next sign-in. App passwords keep working.'), 'Reset password');
    if (!yes) return;
    try {
      const r = await post(
        `${userPath(upn)}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, {});
      showOk(result, h('p', {}, `The password of ${upn} was reset.`),
        r.body && r.body.newPassword ?
          secretBox('Temporary password', r.body.newPassword, 'password') : '');
    } catch (err) { showError(result, err); }
  });

  rereg.addEventListener('click', async () => {
    const plan = reregisterPlan(methods);
    const body = h('div', {},
      h('p', {}, `${upn} will have to register MFA again at their next sign-in.`),
      h('h3', {}, 'Deactivated (they stay assigned)'),
      plan.deactivate.length ? h('ul', {}, plan.deactivate.map((m) =>
        h('li', {}, methodDetail(m)))) : h('p', {}, 'Nothing.'),
      h('h3', {}, 'Deleted'),
      plan.remove.length ? h('ul', {}, plan.remove.map((m) =>
        h('li', {}, `${kindOf(m)[0]}: ${methodDetail(m)}`))) : h('p', {}, 'Nothing.'));
    if (!await confirmDialog('Require re-register MFA?', body, 'Require re-register')) return;
    try {
      const r = await requireReregister(upn);
      await rerender();
      const fresh = document.getElementById('user-result');
      showOk(fresh, h('p', {}, `${upn} must register MFA again.`), reregisterResult(r));
    } catch (err) { showError(result, err); }
  });

  revoke.addEventListener('click', async () => {
    if (!await confirmDialog('Revoke MFA sessions?', h('p', {},
      `Every remembered MFA session of ${upn} ends, on every device; their next sign-in ` +
      'needs MFA again.'), 'Revoke')) return;
    try {
      await revokeSessions(upn);
      showOk(result, `The MFA sessions of ${upn} were revoked.`);
    } catch (err) { showError(result, err); }
  });

  if (unlock) {
    unlock.addEventListener('click', async () => {
      try {
        await post(`${userPath(upn)}/unlock`, {});
        await rerender();
        showOk(document.getElementById('user-result'), `${upn} is unlocked.`);
      } catch (err) { showError(result, err); }
    });
  }

  return h('div', {class: 'toolbar', role: 'group', 'aria-label': 'User actions'},
    reset, rereg, revoke, unlock);
}
