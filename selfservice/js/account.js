// The rest of the user's own security: changing the password, ending their other sessions, and
// their recent activity.
import {get, post} from './api.js';
import {announce, field, fieldError, fmtTime, h, liveRegion, showError, showOk,
  table} from './dom.js';

// `upn` fills a hidden user-name field, so that a password manager knows whose password changed.
export function renderPassword(upn) {
  const pw = (name, label, autocomplete, hint) => field(label,
    h('input', {name, type: 'password', autocomplete}), hint);
  const current = pw('current-password', 'Current password', 'current-password');
  const next = pw('new-password', 'New password', 'new-password');
  const repeat = pw('repeat-password', 'New password again', 'new-password',
    'Type the new password once more, to be sure of it.');
  const result = liveRegion();
  const fields = {
    currentPassword: {...current, pattern: /current ?password/i},
    newPassword: {...next, pattern: /new ?password/i},
  };
  const user = h('input', {type: 'text', name: 'username', autocomplete: 'username', value: upn,
    hidden: true, readonly: true});
  const form = h('form', {novalidate: true, id: 'password-form'}, user, current.row, next.row,
    repeat.row, h('button', {type: 'submit'}, 'Change password'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of [current, next, repeat]) fieldError(f, '');
    result.textContent = '';
    const wrong = [];
    if (!current.input.value) wrong.push([current, 'Enter your current password.']);
    if (!next.input.value) wrong.push([next, 'Enter a new password.']);
    else if (next.input.value !== repeat.input.value) {
      wrong.push([repeat, 'The two new passwords are not the same.']);
    }
    for (const [f, text] of wrong) fieldError(f, text);
    if (wrong.length) {
      wrong[0][0].input.focus();
      return;
    }
    try {
      await post('/v1.0/me/changePassword',
        {currentPassword: current.input.value, newPassword: next.input.value});
      for (const f of [current, next, repeat]) f.input.value = '';
      showOk(result, 'Your password was changed.');
      announce('Password changed');
    } catch (err) {
      // The server's message names the field that is wrong: show it there.
      const named = Object.keys(fields).find((k) => fields[k].pattern.test(err.message || ''));
      if (named) {
        fieldError(fields[named], err.describe());
        fields[named].input.focus();
      } else {
        showError(result, err);
      }
    }
  });
  return h('section', {class: 'panel', 'aria-labelledby': 'password-title'},
    h('h2', {id: 'password-title'}, 'Password'), form);
}

export function renderSessions() {
  const result = liveRegion();
  const button = h('button', {type: 'button', class: 'secondary', id: 'sign-out-everywhere',
    onclick: async () => {
      try {
        await post('/v1.0/me/revokeSignInSessions', {});
        showOk(result, 'You were signed out everywhere else. Devices that remembered your ' +
          'sign-in will ask for a code again.');
      } catch (err) { showError(result, err); }
    }}, 'Sign out everywhere');
  return h('section', {class: 'panel', 'aria-labelledby': 'sessions-title'},
    h('h2', {id: 'sessions-title'}, 'Signed in elsewhere?'),
    h('p', {}, 'If you lost a device or think someone else signed in as you, end every other ' +
      'session and forget the devices that remembered your sign-in.'),
    button, result);
}

// Audit actions (docs/admin-api.md) in words; any other shows as it is recorded.
const ACTIONS = {
  'signin.accepted': 'Signed in',
  'signin.refused': 'Sign-in refused',
  'session.remember': 'Sign-in remembered on a device',
  'phone.add': 'Phone added',
  'phone.update': 'Phone changed',
  'email.add': 'Email added',
  'email.update': 'Email changed',
  'software_oath.enrol': 'Authenticator app set up',
  'software_oath.confirm': 'Authenticator app confirmed',
  'method.delete': 'Method deleted',
  'token.assign': 'Hardware token assigned',
  'token.activate': 'Hardware token activated',
  'token.deactivate': 'Hardware token deactivated',
  'token.unassign': 'Hardware token removed',
  'tap.create': 'Temporary Access Pass created',
  'tap.delete': 'Temporary Access Pass deleted',
  'password.reset': 'Password reset by an administrator',
  'password.change': 'Password changed',
  'user.create': 'Account created',
  'user.update': 'Account changed',
  'user.unlock': 'Account unlocked',
  'user.require_reregistration': 'Asked to set up sign-in methods again',
  'user.revoke_mfa_sessions': 'Signed out everywhere',
  'app_password.create': 'App password created',
  'app_password.delete': 'App password deleted',
};

// What happened, with its result when it was not a success (in words, not by colour).
function what(a) {
  const words = ACTIONS[a.action] || a.action || '';
  return a.result && !['ok', 'success', 'succeeded', 'accepted'].includes(a.result) ?
    `${words} (${a.result})` : words;
}

// When each method last signed the user in, and the wrong tries since: what lets a user notice
// sign-ins that were not theirs.
async function signInRows(section) {
  const s = (await get('/v1.0/me/signInActivity')).body || {};
  const lines = [];
  if (s.failedSignInsSinceLastSuccess > 0) {
    const n = s.failedSignInsSinceLastSuccess;
    lines.push(`${n} wrong ${n === 1 ? 'code or password' : 'codes or passwords'} since your ` +
      `last sign-in, the last at ${fmtTime(s.lastFailedSignInDateTime)}. Not you? Change your ` +
      'password and tell your administrator.');
  }
  if (s.lockedUntilDateTime) {
    lines.push(`Signing in is paused until ${fmtTime(s.lockedUntilDateTime)} after too many ` +
      'wrong tries.');
  }
  for (const text of lines) section.append(h('p', {class: 'banner'}, text));
  const rows = (s.methods || []).map((m) => [m.displayName || '',
    m.lastUsedDateTime ? fmtTime(m.lastUsedDateTime) : 'Not used to sign in yet']);
  section.append(table('When each of your apps and tokens last signed you in',
    ['Method', 'Last sign-in'], rows, {empty: 'No app or token yet.'}));
}

export async function renderActivity() {
  const section = h('section',
    {class: 'panel', id: 'activity', 'aria-labelledby': 'activity-title'},
    h('h2', {id: 'activity-title'}, 'Recent activity'));
  try {
    await signInRows(section);
    const rows = ((await get('/v1.0/me/activity')).body.value || []).slice(0, 20)
      .map((a) => [fmtTime(a.dateTime), what(a), a.detail || '', a.by || a.actor || '']);
    section.append(table('Changes to your sign-in methods and password, newest first',
      ['When', 'What', 'Detail', 'By'], rows, {empty: 'Nothing recorded yet.'}));
  } catch (err) {
    const region = liveRegion();
    showError(region, err);
    section.append(region);
  }
  return section;
}
