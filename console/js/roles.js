// What the signed-in key may do, from GET /v1.0/me, mirroring service/roles.cc. The console hides
// what the roles do not allow; the daemon refuses it anyway.

let me = {name: '', roles: [], owner: false};

export function setMe(value) { me = value; }
export function getMe() { return me; }

const has = (r) => me.owner || me.roles.includes(r);

export const can = {
  // Users' methods, lockouts, password resets, app passwords, temporary access passes.
  manageMethods: () => has('authentication_administrator') ||
    has('privileged_authentication_administrator'),
  manageInventory: () => has('authentication_policy_administrator'),
  manageHooks: () => me.owner,
  seeFullPhones: () => has('privileged_authentication_administrator'),
};
