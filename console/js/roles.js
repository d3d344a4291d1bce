// What the signed-in key may do, from GET /v1.0/me, mirroring service/admin/roles.cc (Authorize). The
// console offers only what the roles allow and says which role the rest takes; the daemon
// refuses it anyway. console_test.py checks this table against the daemon's answers per role.
import {h} from './dom.js';

let me = {name: '', roles: [], owner: false};

export function setMe(value) { me = value; }
export function getMe() { return me; }

const has = (r) => me.owner || me.roles.includes(r);

const AUTH_ADMIN = 'authentication_administrator';
const PRIVILEGED = 'privileged_authentication_administrator';
const POLICY_ADMIN = 'authentication_policy_administrator';

export const can = {
  // Users' methods, lockouts, password resets, app passwords, temporary access passes.
  manageMethods: () => has(AUTH_ADMIN) || has(PRIVILEGED),
  // Creating, renaming and deleting users: the same roles as their methods.
  manageUsers: () => has(AUTH_ADMIN) || has(PRIVILEGED),
  manageInventory: () => has(POLICY_ADMIN),
  manageHooks: () => me.owner,
  seeFullPhones: () => has(PRIVILEGED),
};

// The role each kind of change takes, for the notes shown where a control is disabled.
export const NEEDS = {
  manageMethods: AUTH_ADMIN,
  manageUsers: AUTH_ADMIN,
  manageInventory: POLICY_ADMIN,
  manageAdministrators: PRIVILEGED,
};

// A user who holds a role beyond reader counts as an administrator: only a privileged
// authentication administrator (or the owner) changes their methods.
export function canChangeUser(user) {
  if (!can.manageMethods()) return false;
  const admin = (user.roles || []).some((r) => r !== 'reader');
  return !admin || has(PRIVILEGED);
}

// "Your key's roles: reader." for the notes.
export function heldRoles() {
  return me.roles.length ? me.roles.join(', ') : 'none';
}

// A short note saying what `what` takes and what the key holds; `id` lets tests and
// aria-describedby find it.
export function needsNote(id, what, role) {
  return h('p', {class: 'needs', id}, `${what} takes the ${role} role; this key holds: ` +
    `${heldRoles()}.`);
}
