// Users: search by UPN prefix, a page at a time.
import {get, userPath} from '../api.js';
import {announce, clear, field, fmtTime, h, liveRegion, showError, table} from '../dom.js';

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
  root.append(h('h1', {}, 'Users'), form, status, results, pager);
  await load(null);
}
