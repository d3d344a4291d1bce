// The audit trail with its filters (target, actor, action, since), newest first, a page of rows
// at a time.
import {get} from '../api.js';
import {clear, field, fmtTime, h, liveRegion, showError, table} from '../dom.js';

const SHOWN = 50;  // rows added per "Show older records"
// The daemon lists the trail oldest first; the page reads it through and keeps the newest this
// many, so that a long trail costs the browser bounded memory.
const KEPT = 5000;

// Every record matching `query`, oldest first, the newest KEPT of them; `more` when older ones
// were left out.
async function newest(query) {
  const kept = [];
  let more = false;
  let next = `/v1.0/audit?${query}`;
  while (next) {
    const page = (await get(next)).body;
    kept.push(...(page.value || []));
    if (kept.length > KEPT) {
      kept.splice(0, kept.length - KEPT);
      more = true;
    }
    const link = page['@odata.nextLink'];
    next = link ? (({pathname, search}) => pathname + search)(new URL(link, location.href)) :
      null;
  }
  return {records: kept.reverse(), more};
}

export async function renderAudit(root) {
  const target = h('input', {name: 'target', autocomplete: 'off',
    placeholder: 'user/alice@example.com'});
  const actor = h('input', {name: 'actor', autocomplete: 'off', placeholder: 'apikey:helpdesk'});
  // Actions are named <subject>.<verb>: the beginning of one ("token") finds them all.
  const action = h('input', {name: 'action', autocomplete: 'off', placeholder: 'token.activate'});
  const since = h('input', {name: 'since', type: 'datetime-local'});
  const form = h('form', {class: 'filters', role: 'search'},
    field('Target', target).row, field('Actor', actor).row,
    field('Action (or its beginning)', action).row, field('Since (UTC)', since).row,
    h('button', {type: 'submit'}, 'Apply'));
  const status = liveRegion();
  const list = h('div', {id: 'audit-list'});
  const pager = h('div', {class: 'pager'});
  let found = {records: [], more: false};
  let shown = 0;

  function show() {
    const rows = found.records.slice(0, shown).map((a) => [fmtTime(a.activityDateTime),
      a.actor, a.action, a.target, a.result, a.detail || '']);
    clear(list).append(
      h('p', {class: 'count'}, found.records.length ?
        `${rows.length} of ${found.records.length}${found.more ? '+' : ''} records, ` +
        'newest first.' : ''),
      table({text: 'Audit records, newest first', hidden: true},
        ['When', 'Actor', 'Action', 'Target', 'Result', 'Detail'], rows,
        {empty: 'No records match.'}));
    const t = list.querySelector('table');
    if (t) t.classList.add('audit');
    clear(pager);
    if (shown < found.records.length) {
      pager.append(h('button', {type: 'button', class: 'secondary', id: 'audit-older',
        onclick: () => {
          shown += SHOWN;
          show();
        }}, 'Show older records'));
    } else if (found.more) {
      pager.append(h('p', {class: 'note'}, `Only the newest ${KEPT} matching records are ` +
        'shown; narrow the filters to see older ones.'));
    }
  }

  async function load() {
    const q = new URLSearchParams({'$top': '999'});
    if (target.value.trim()) q.set('target', target.value.trim());
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    const a = action.value.trim();
    if (a) q.set('$filter', `startswith(action,'${a.replaceAll("'", "''")}')`);
    if (since.value) {
      q.set('since', since.value.length === 16 ? `${since.value}:00Z` : `${since.value}Z`);
    }
    try {
      found = await newest(q);
      shown = SHOWN;
      show();
      clear(status);
    } catch (err) { showError(status, err); }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  root.append(h('h1', {}, 'Audit log'), form, status, list, pager);
  await load();
}
