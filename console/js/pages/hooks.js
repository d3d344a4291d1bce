// Hooks: each sink's state, lag and dead letters; redeliver the dead letters, enable a sink.
import {enc, get, post} from '../api.js';
import {announce, clear, fmtTime, h, liveRegion, showError, showOk, table} from '../dom.js';
import {can} from '../roles.js';

export async function renderHooks(root) {
  root.append(h('h1', {}, 'Hooks'));
  const status = liveRegion();
  status.id = 'hooks-result';
  const list = h('div', {});
  if (!can.manageHooks()) {
    root.append(h('p', {class: 'note'}, 'Retrying dead letters and enabling a hook are the ' +
      'local owner\'s: run otpctl hooks redeliver NAME (or hooks enable NAME) on the daemon\'s ' +
      'machine, as its user or root.'));
  }
  root.append(status, list);

  async function load() {
    let hooks;
    try {
      hooks = (await get('/v1.0/admin/hooks')).body.value || [];
    } catch (err) {
      if (err.status === 404) {
        clear(list).append(h('p', {}, 'This daemon has no hooks API.'));
        return;
      }
      throw err;
    }
    const headings = ['Name', 'Kind', 'State', 'Lag (events behind)', 'Delivered',
      'Dead letters', 'Last error', 'Actions'];
    clear(list).append(table({text: 'Hooks', hidden: true}, headings, hooks.map((k) => {
      const actions = h('div', {class: 'row-actions', role: 'group',
        'aria-label': `Actions for ${k.name}`});
      if (k.deadLetters) {
        actions.append(h('button', {type: 'button', class: 'small secondary',
          onclick: () => showDeadLetters(k.name, status)}, 'Show dead letters'));
      }
      // Redelivering and enabling are the owner's (service/admin/roles.h).
      if (can.manageHooks() && k.deadLetters) {
        actions.append(h('button', {type: 'button', class: 'small', onclick: async () => {
          try {
            const r = (await post(`/v1.0/admin/hooks/${enc(k.name)}/redeliver`, {})).body;
            await load();
            showOk(status, `${r.redelivered} dead letter(s) of ${k.name} queued again.`);
          } catch (err) { showError(status, err); }
        }}, 'Retry dead letters'));
      }
      if (can.manageHooks() && k.state === 'disabled') {
        actions.append(h('button', {type: 'button', class: 'small', onclick: async () => {
          try {
            await post(`/v1.0/admin/hooks/${enc(k.name)}/enable`, {});
            await load();
            showOk(status, `${k.name} enabled.`);
          } catch (err) { showError(status, err); }
        }}, 'Enable'));
      }
      return [k.name, k.kind || '—', k.state, String(k.lag ?? '—'), String(k.delivered ?? '—'),
        String(k.deadLetters ?? 0), k.lastError || '—', actions.childElementCount ? actions : '—'];
    }), {empty: 'No hooks are configured (docs/hooks.md).'}));
    announce(`${hooks.length} hooks`);
  }
  await load();
}

async function showDeadLetters(name, status) {
  try {
    const letters = (await get(`/v1.0/admin/hooks/${enc(name)}/deadLetters`)).body.value || [];
    showOk(status, table(`Dead letters of ${name}`,
      ['Dead-lettered', 'Event', 'Sequence', 'User', 'Attempts', 'Last error'],
      letters.map((d) => [fmtTime(d.deadLetteredDateTime), d.type || d.eventId || '',
        String(d.sequence ?? ''), d.user || '—', String(d.attempts ?? ''), d.lastError || '']),
      {empty: 'No dead letters.'}));
  } catch (err) { showError(status, err); }
}
