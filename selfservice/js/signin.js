// The sign-in view: user name, password and a code; or user name and a Temporary Access Pass.
import {get, post} from './api.js';

const $ = (id) => document.getElementById(id);
let usingTap = false;
// The operator lets a user without a second factor yet sign in with the password alone to
// register one ([actions] registration_with_password).
let passwordAlone = false;

function setMode(tap) {
  usingTap = tap;
  $('password-row').hidden = tap;
  $('code-row').hidden = tap;
  $('tap-row').hidden = !tap;
  $('use-tap').textContent = tap ? 'Use your password and a code instead' :
    'Use a Temporary Access Pass';
  $('sign-in-intro').textContent = tap ?
    'Sign in with the Temporary Access Pass your administrator gave you.' :
    'Sign in with your password and a code from your authenticator app or hardware token.';
  clearErrors();
}

function clearErrors() {
  for (const name of ['upn', 'password', 'code', 'tap']) {
    $(`${name}-error`).textContent = '';
    $(name).setAttribute('aria-invalid', 'false');
  }
  $('sign-in-error').textContent = '';
}

// Marks a field wrong with words next to it; answers false so that callers can chain checks.
function wrong(name, text) {
  $(`${name}-error`).textContent = text;
  $(name).setAttribute('aria-invalid', 'true');
  return false;
}

// The fields' own checks, before anything is sent; focuses the first wrong field.
function checkFields() {
  const problems = [];
  if (!$('upn').value.trim()) {
    problems.push(['upn', 'Enter your user name, as someone@example.com.']);
  }
  if (usingTap) {
    if (!$('tap').value.trim()) problems.push(['tap', 'Enter your Temporary Access Pass.']);
  } else {
    if (!$('password').value) problems.push(['password', 'Enter your password.']);
    const code = $('code').value.trim();
    if (!(passwordAlone && code === '') && !/^[0-9]{6,8}$/.test(code)) {
      problems.push(['code', 'Enter the 6 to 8 digits your app or token shows.']);
    }
  }
  for (const [name, text] of problems) wrong(name, text);
  if (problems.length) $(problems[0][0]).focus();
  return problems.length === 0;
}

// When a locked account may try again, in words: Retry-After is seconds or an HTTP date.
export function retryWords(retryAfter) {
  if (!retryAfter) return 'Try again later.';
  const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) :
    Math.max(0, (Date.parse(retryAfter) - Date.now()) / 1000);
  if (Number.isNaN(seconds)) return 'Try again later.';
  const at = new Date(Date.now() + seconds * 1000).toLocaleTimeString(undefined,
    {hour: '2-digit', minute: '2-digit', second: seconds < 120 ? '2-digit' : undefined});
  return `You can sign in again after ${at}.`;
}

function body() {
  const upn = $('upn').value.trim();
  if (usingTap) return {userPrincipalName: upn, temporaryAccessPass: $('tap').value.trim()};
  const code = $('code').value.trim();
  return code === '' ? {userPrincipalName: upn, password: $('password').value} :
    {userPrincipalName: upn, password: $('password').value, verificationCode: code};
}

// Shows the sign-in view with `message` (why it is shown), focused on the first field.
export function showSignIn(message = '') {
  $('sign-in').hidden = false;
  $('page').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  for (const name of ['password', 'code', 'tap']) $(name).value = '';
  clearErrors();
  $('sign-in-error').textContent = message;
  document.title = 'Sign in · Security info';
  $('upn').focus();
}

// Wires the form; `onSignedIn(session)` gets the daemon's answer.
export function initSignIn(onSignedIn) {
  get('/selfservice/options').then(({body}) => {
    passwordAlone = Boolean(body && body.registrationWithPassword);
    if (passwordAlone) {
      $('code').required = false;
      $('code-hint').textContent = 'The code your authenticator app or hardware token shows ' +
        'now. Not set one up yet? Leave it empty to set one up after your password.';
    }
  }).catch(() => {});
  $('use-tap').addEventListener('click', () => {
    setMode(!usingTap);
    (usingTap ? $('tap') : $('password')).focus();
  });
  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    if (!checkFields()) return;
    const submit = $('sign-in-submit');
    submit.disabled = true;
    try {
      const session = (await post('/selfservice/signin', body())).body;
      for (const name of ['password', 'code', 'tap']) $(name).value = '';
      await onSignedIn(session);
    } catch (err) {
      const text = err.code === 'locked' ?
        `${err.describe()} ${retryWords(err.retryAfter)}` : err.describe();
      // A user who must register again signs in with a pass: the form asks for one.
      if (err.code === 'registrationRequired' && !usingTap) setMode(true);
      $('sign-in-error').textContent = text;
      $(usingTap ? 'tap' : 'code').value = '';
      $(usingTap ? 'tap' : 'code').focus();
    } finally {
      submit.disabled = false;
    }
  });
}
