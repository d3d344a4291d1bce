// Users: search by UPN prefix, a page at a time; "New user" where the key's roles allow it.
import {call, get, userPath} from '../api.js';
import {announce, clear, field, fmtTime, h, liveRegion, showError, showOk, table} from '../dom.js';
import {NEEDS, can, needsNote} from '../roles.js';

const PAGE_SIZE = 25;

export function userLink(upn) {
  return h('a', {href: `#/user/${encodeURIComponent(upn)}`}, upn);
}

// Lists users whose UPN starts with `prefix`, from `link` (a nextLink) or the first page.
export async function fetchUsers(prefix, link) {
  if (link) {
    const u = new URL(link, location.href);
    return (await get(u.pathname + u.search)).body;
  }
  const q = new URLSearchParams({'$top': String(PAGE_SIZE)});
  if (prefix) q.set('$filter', `startswith(userPrincipalName,'${prefix.replaceAll("'", "''")}')`);
  return (await get(`/v1.0/users?${q}`)).body;
}

export async function renderUsers(root) {
  const search = h('input', {type: 'search', name: 'prefix', autocomplete: 'off',
    placeholder: 'alice@'});
  const f = field('Search by user principal name (starts with)', search);
  const results = h('div', {id: 'users-results'});
  const status = liveRegion();
  const pager = h('div', {class: 'pager'});
  const form = h('form', {class: 'toolbar', role: 'search'}, f.row,
    h('button', {type: 'submit'}, 'Search'));
  const history = [];  // links of the pages before this one
  let current = null;

  async function load(link) {
    try {
      const page = await fetchUsers(search.value.trim(), link);
      current = link;
      clear(results).append(table({text: 'Users', hidden: true},
        ['User principal name', 'Display name', 'Methods', 'Registration required',
          'Locked until'],
        page.value.map((u) => [userLink(u.userPrincipalName), u.displayName || '—',
          String(u.methodCount), u.mfaRegistrationRequired ? 'Yes' : 'No',
          u.lockedUntilDateTime ? fmtTime(u.lockedUntilDateTime) : '—']),
        {empty: 'No users match.'}));
      clear(pager);
      if (history.length) {
        pager.append(h('button', {type: 'button', class: 'secondary', onclick: () => {
          load(history.pop());
        }}, 'Previous page'));
      }
      const next = page['@odata.nextLink'];
      if (next) {
        pager.append(h('button', {type: 'button', class: 'secondary', onclick: () => {
          history.push(current);
          load(next);
        }}, 'Next page'));
      }
      announce(`${page.value.length} users shown`);
      clear(status);
    } catch (err) {
      showError(status, err);
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    history.length = 0;
    load(null);
  });
  root.append(h('h1', {}, 'Users'), newUser(() => load(null)), form, status, results, pager);
  await load(null);
}

// "New user": a button that opens the form, or, disabled, with the role it takes. A user who
// exists already is reported, never renamed: PUT would replace their display name.
function newUser(reload) {
  const open = h('button', {type: 'button', id: 'new-user', 'aria-expanded': 'false'},
    '+ New user');
  if (!can.manageUsers()) {
    open.disabled = true;
    open.setAttribute('aria-describedby', 'new-user-needs');
    return h('div', {class: 'toolbar'}, open,
      needsNote('new-user-needs', 'Creating users', NEEDS.manageUsers));
  }
  const upn = h('input', {type: 'email', name: 'new-upn', autocomplete: 'off',
    placeholder: 'alice@example.com', required: true});
  const name = h('input', {type: 'text', name: 'new-display-name', autocomplete: 'off'});
  const result = h('div', {id: 'new-user-result', class: 'result', 'aria-live': 'polite',
    role: 'status'});
  const form = h('form', {id: 'new-user-form', class: 'panel', hidden: true, novalidate: true,
    'aria-labelledby': 'new-user-title'},
  h('h2', {id: 'new-user-title'}, 'New user'),
  field('User principal name', upn, 'An e-mail address, e.g. alice@example.com.').row,
  field('Display name', name).row,
  h('button', {type: 'submit'}, 'Create user'), result);
  open.addEventListener('click', () => {
    form.hidden = !form.hidden;
    open.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) upn.focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const who = upn.value.trim();
    if (!who) {
      showError(result, new Error('Enter the user principal name.'));
      upn.focus();
      return;
    }
    try {
      if (await exists(who)) {
        showError(result, new Error(`${who} already exists; nothing was changed.`));
        result.append(h('p', {}, h('a', {href: `#/user/${encodeURIComponent(who)}`},
          `Open ${who}`)));
        return;
      }
      const r = await call('PUT', userPath(who), {displayName: name.value.trim()});
      // 200: someone created them between the check and this call.
      const said = r.status === 201 ? `${who} was created. ` :
        `${who} was created by someone else meanwhile; the display name is now this one. `;
      showOk(result, h('p', {}, said,
        h('a', {href: `#/user/${encodeURIComponent(who)}`}, 'Add their methods')));
      announce(said);
      await reload();
    } catch (err) { showError(result, err); }
  });
  return h('div', {}, h('div', {class: 'toolbar'}, open), form);
}

async function exists(upn) {
  try {
    await get(userPath(upn));
    return true;
  } catch (err) {
    if (err.status === 404) return false;
    throw err;
  }
}
