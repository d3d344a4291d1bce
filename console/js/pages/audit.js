// The audit trail with its filters (target, actor, action, since).
import {get} from '../api.js';
import {clear, field, fmtTime, h, liveRegion, showError, table} from '../dom.js';

export async function renderAudit(root) {
  const target = h('input', {name: 'target', autocomplete: 'off',
    placeholder: 'user/alice@example.com'});
  const actor = h('input', {name: 'actor', autocomplete: 'off', placeholder: 'apikey:helpdesk'});
  const action = h('input', {name: 'action', autocomplete: 'off', placeholder: 'token.activate'});
  const since = h('input', {name: 'since', type: 'datetime-local'});
  const form = h('form', {class: 'filters', role: 'search'},
    field('Target', target).row, field('Actor', actor).row, field('Action', action).row,
    field('Since (UTC)', since).row, h('button', {type: 'submit'}, 'Apply'));
  const status = liveRegion();
  const list = h('div', {});
  const pager = h('div', {class: 'pager'});

  async function load(link) {
    const q = new URLSearchParams({'$top': '100'});
    if (target.value.trim()) q.set('target', target.value.trim());
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (action.value.trim()) q.set('action', action.value.trim());
    if (since.value) q.set('since', since.value.length === 16 ? `${since.value}:00Z` : `${since.value}Z`);
    try {
      let page;
      if (link) {
        const u = new URL(link, location.href);
        page = (await get(u.pathname + u.search)).body;
      } else {
        page = (await get(`/v1.0/audit?${q}`)).body;
      }
      clear(list).append(table({text: 'Audit records', hidden: true},
        ['When', 'Actor', 'Action', 'Target', 'Result', 'Detail'],
        page.value.map((a) => [fmtTime(a.activityDateTime), a.actor, a.action, a.target,
          a.result, a.detail || '']), {empty: 'No records match.'}));
      clear(pager);
      const next = page['@odata.nextLink'];
      if (next) {
        pager.append(h('button', {type: 'button', class: 'secondary',
          onclick: () => load(next)}, 'Later records'));
      }
      clear(status);
    } catch (err) { showError(status, err); }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  root.append(h('h1', {}, 'Audit log'), form, status, list, pager);
  await load();
}
