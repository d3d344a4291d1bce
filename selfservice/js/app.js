// The Security info page's entry: the sign-in view, then the user's own methods and settings.
import {get, post, setCsrfToken, setReauthenticateHandler,
  setUnauthenticatedHandler} from './api.js';
import {announce, clear, h, liveRegion, showError, showOk} from './dom.js';
import {renderActivity, renderPassword, renderSessions} from './account.js';
import {renderAddMethod} from './add_method.js';
import {loadMethods, renderMethods} from './methods.js';
import {loadPreference, renderDefaultMethod} from './default_method.js';
import {askForCode} from './reauth.js';
import {initSignIn, showSignIn} from './signin.js';

const $ = (id) => document.getElementById(id);
let session = null;

async function signedIn(s) {
  session = s;
  setCsrfToken(s.csrfToken);
  $('sign-in').hidden = true;
  $('page').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = s.displayName && s.displayName !== s.userPrincipalName ?
    `${s.displayName} (${s.userPrincipalName})` : s.userPrincipalName;
  document.title = 'Security info';
  await render();
  announce(`Signed in as ${s.displayName || s.userPrincipalName}`);
}

// Draws the signed-in view again from the server's state; `message` says what just happened.
// Focus goes to the first field of the registration flow when one is required, else the heading.
async function render(message = '') {
  const root = $('page');
  let methods;
  let preference;
  try {
    methods = await loadMethods();
    preference = await loadPreference();
  } catch (err) {
    if (!session) return;
    const region = liveRegion();
    showError(region, err);
    clear(root).append(h('h1', {tabindex: -1}, 'Security info'), region);
    return;
  }
  const heading = h('h1', {tabindex: -1, id: 'page-title'}, 'Security info');
  const note = liveRegion();
  if (message) showOk(note, message);
  const banner = session.mustRegister ? h('div', {class: 'banner', id: 'register-banner',
    role: 'alert'}, h('strong', {}, 'Your organisation needs you to set up a sign-in method.'),
  ' Add an authenticator app below to finish signing in.') : null;
  const list = renderMethods(methods, () => refresh(''));
  const add = renderAddMethod(refresh, session.mustRegister ? 'app' : null);
  // A user who must register sees the flow that lets them finish first.
  const parts = [heading, note, banner,
    h('p', {}, 'These are the methods you use to sign in and to reset your password.'),
    ...(session.mustRegister ? [add, list] : [list, add]),
    renderDefaultMethod(methods, preference),
    renderPassword(session.userPrincipalName), renderSessions(), await renderActivity()];
  clear(root).append(...parts.filter(Boolean));
  const first = session.mustRegister ? root.querySelector('#add-method-form input') : null;
  (first || heading).focus();
}

// After a change: the session again (a finished registration clears mustRegister), then the view.
async function refresh(message) {
  try {
    session = (await get('/selfservice/session')).body;
    setCsrfToken(session.csrfToken);
  } catch (err) {
    if (err.status === 401) signedOut('Your session ended; sign in again.');
    else announce(err.describe());
    return;
  }
  await render(message);
}

function signedOut(message) {
  session = null;
  setCsrfToken('');
  clear($('page'));
  showSignIn(message);
}

setUnauthenticatedHandler(() => signedOut('Your session ended; sign in again.'));
setReauthenticateHandler(askForCode);
initSignIn(signedIn);

$('sign-out').addEventListener('click', async () => {
  try {
    await post('/selfservice/signout', {});
    signedOut('You signed out.');
  } catch (err) {
    if (session) announce(err.describe());
  }
});

// A session this browser already has (a reload, a second tab) is picked up without a new sign-in.
get('/selfservice/session').then((r) => signedIn(r.body), () => showSignIn());
