// The console's entry: sign-in, the navigation and the hash router (#/users, #/users/UPN, ...).
import {forgetKey, get, getKey, setKey, setUnauthenticatedHandler} from './api.js';
import {announce, clear} from './dom.js';
import {setMe, getMe} from './roles.js';
import {renderUsers} from './pages/users.js';
import {renderUser} from './pages/user.js';
import {renderMfa} from './pages/mfa.js';
import {renderTokens} from './pages/tokens.js';
import {renderAudit} from './pages/audit.js';
import {renderHooks} from './pages/hooks.js';
import {renderOverview, stopOverview} from './pages/overview.js';

const $ = (id) => document.getElementById(id);

const PAGES = {
  overview: renderOverview,
  users: renderUsers,
  mfa: renderMfa,
  tokens: renderTokens,
  audit: renderAudit,
  hooks: renderHooks,
};

function showSignIn(message = '') {
  stopOverview();
  $('sign-in').hidden = false;
  $('page').hidden = true;
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('sign-in-error').textContent = message;
  $('api-key').value = '';
  $('api-key').focus();
}

async function signedIn() {
  const me = (await get('/v1.0/me')).body;
  setMe({name: me.name, roles: me.roles || [], owner: !!me.owner});
  $('sign-in').hidden = true;
  $('page').hidden = false;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = `Signed in as ${me.name} (${(me.roles || []).join(', ')})`;
  route();
}

async function route() {
  if (!getKey()) return;
  stopOverview();
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [page, ...rest] = hash.split('/');
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page || (page === 'user' && a.dataset.page === 'users')) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
  const root = clear($('page'));
  try {
    if (page === 'user' && rest.length) {
      await renderUser(root, decodeURIComponent(rest.join('/')));
    } else {
      await (PAGES[page] || renderOverview)(root);
    }
    const heading = root.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      document.title = `${heading.textContent} · otpd console`;
    }
  } catch (err) {
    root.append(Object.assign(document.createElement('p'), {
      className: 'result error',
      textContent: err.describe ? err.describe() : String(err),
    }));
  }
}

window.addEventListener('hashchange', () => {
  route().then(() => {
    const heading = $('page').querySelector('h1');
    if (heading) heading.focus();
  });
});

$('sign-in-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) {
    $('sign-in-error').textContent = 'Enter an API key.';
    return;
  }
  setKey(key);
  try {
    await signedIn();
    announce(`Signed in as ${getMe().name}`);
  } catch (err) {
    forgetKey();
    showSignIn(err.describe ? err.describe() : String(err));
  }
});

$('sign-out').addEventListener('click', () => {
  forgetKey();
  showSignIn('Signed out.');
});

setUnauthenticatedHandler((err) => {
  forgetKey();
  showSignIn(err.describe());
});

if (getKey()) {
  signedIn().catch((err) => { forgetKey(); showSignIn(err.describe ? err.describe() : ''); });
} else {
  showSignIn();
}
