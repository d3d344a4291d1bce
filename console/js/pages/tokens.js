// Hardware OATH tokens: upload a token file (Entra CSV, OATH CSV, PSKC) and see the report per
// row; the inventory with a status filter and a serial search; each token's lifecycle.
import {call, del, enc, get, post, userPath} from '../api.js';
import {announce, clear, confirmDialog, field, fmtTime, h, liveRegion, showError, showOk,
  table, uid} from '../dom.js';
import {NEEDS, can, heldRoles, needsNote} from '../roles.js';

const DEVICES = '/v1.0/directory/authenticationMethodDevices/hardwareOathDevices';

export async function renderTokens(root) {
  root.append(h('h1', {}, 'Hardware OATH tokens'));
  const list = h('div', {id: 'token-list'});
  root.append(uploadForm(() => refresh()));

  const status = h('select', {name: 'status-filter'},
    h('option', {value: ''}, 'Any status'),
    ['available', 'assigned', 'activated', 'failedActivation'].map((s) =>
      h('option', {value: s}, s)));
  const search = h('input', {type: 'search', name: 'serial-search', autocomplete: 'off'});
  const filters = h('form', {class: 'toolbar', role: 'search'},
    field('Status', status).row, field('Serial number starts with', search).row,
    h('button', {type: 'submit'}, 'Apply'));
  const result = liveRegion();
  result.id = 'token-result';
  let next = null;

  async function refresh(link) {
    const clauses = [];
    if (status.value) clauses.push(`status eq '${status.value}'`);
    if (search.value.trim()) {
      clauses.push(`startswith(serialNumber,'${search.value.trim().replaceAll("'", "''")}')`);
    }
    const q = new URLSearchParams({'$top': '50'});
    if (clauses.length) q.set('$filter', clauses.join(' and '));
    try {
      let page;
      if (link) {
        const u = new URL(link, location.href);
        page = (await get(u.pathname + u.search)).body;
      } else {
        page = (await get(`${DEVICES}?${q}`)).body;
      }
      next = page['@odata.nextLink'] || null;
      const headings = ['Serial number', 'Status', 'Assigned to', 'Model', 'Type', 'Last used'];
      if (can.manageMethods() || can.manageInventory()) headings.push('Actions');
      clear(list).append(table({text: 'Tokens', hidden: true}, headings,
        page.value.map((d) => row(d, result, refresh)), {empty: 'No tokens match.'}));
      if (next) {
        list.append(h('button', {type: 'button', class: 'secondary',
          onclick: () => refresh(next)}, 'Next page'));
      }
    } catch (err) { showError(result, err); }
  }
  filters.addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
  root.append(h('h2', {}, 'Tokens'), filters, missingActions() || '', result, list);
  await refresh();
}

// What the token rows do not offer this key, and the role each would take.
function missingActions() {
  const missing = [];
  if (!can.manageMethods()) {
    missing.push(`assigning, activating and unassigning tokens take the ${NEEDS.manageMethods} ` +
      'role');
  }
  if (!can.manageInventory()) {
    missing.push(`deleting a token no one holds takes the ${NEEDS.manageInventory} role`);
  }
  if (!missing.length) return null;
  const text = missing.join('; ');
  return h('p', {class: 'needs', id: 'token-actions-needs'},
    `${text[0].toUpperCase()}${text.slice(1)}; this key holds: ${heldRoles()}.`);
}

function row(d, result, refresh) {
  const who = d.assignedTo ? d.assignedTo.id : '';
  const cells = [d.serialNumber, d.status, who ? h('a', {href: `#/user/${enc(who)}`}, who) : '—',
    [d.manufacturer, d.model].filter(Boolean).join(' ') || '—',
    `${(d.type || '').toUpperCase()} ${d.digits}\u00a0digits${d.timeIntervalInSeconds ?
      `, ${d.timeIntervalInSeconds}\u00a0s` : ''}`, fmtTime(d.lastUsedDateTime)];
  if (can.manageMethods() || can.manageInventory()) cells.push(actions(d, result, refresh));
  return cells;
}

function actions(d, result, refresh) {
  const box = h('div', {class: 'row-actions', role: 'group',
    'aria-label': `Actions for ${d.serialNumber}`});
  const who = d.assignedTo ? d.assignedTo.id : '';
  const base = who ? `${userPath(who)}/authentication/hardwareOathMethods/${enc(d.serialNumber)}` : '';
  // A refusal shows in the row that caused it; a success in the page's result, over the new list.
  const problem = h('p', {class: 'field-error row-error', 'aria-live': 'polite'});
  const run = async (label, f) => {
    problem.textContent = '';
    try {
      await f();
    } catch (err) {
      problem.textContent = err.describe ? err.describe() : String(err.message || err);
      return;
    }
    announce(label);
    await refresh();
    showOk(document.getElementById('token-result'), label);
  };
  if (can.manageMethods()) {
    if (!who) {
      const upn = h('input', {type: 'email', name: 'assign-upn', autocomplete: 'off',
        'aria-label': `User to assign ${d.serialNumber} to`, placeholder: 'user@example.com'});
      const f = h('form', {class: 'inline', novalidate: true}, upn,
        h('button', {type: 'submit', class: 'small'}, 'Assign'));
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        run(`${d.serialNumber} assigned to ${upn.value}`, () => post(
          `${userPath(upn.value.trim())}/authentication/hardwareOathMethods`,
          {device: {id: d.serialNumber}}));
      });
      box.append(f);
    } else {
      if (d.status !== 'activated') {
        const code = h('input', {name: 'activation-code', inputmode: 'numeric',
          autocomplete: 'off', maxlength: 10, size: 8,
          'aria-label': `Code shown on ${d.serialNumber}`, placeholder: 'code'});
        const f = h('form', {class: 'inline', novalidate: true}, code,
          h('button', {type: 'submit', class: 'small'}, 'Activate'));
        f.addEventListener('submit', (e) => {
          e.preventDefault();
          run(`${d.serialNumber} activated`, () => post(`${base}/activate`,
            {verificationCode: code.value.trim()}));
        });
        box.append(f);
      } else {
        box.append(h('button', {type: 'button', class: 'small secondary',
          onclick: () => run(`${d.serialNumber} deactivated`, () => post(`${base}/deactivate`,
            {}))}, 'Deactivate'));
      }
      box.append(h('button', {type: 'button', class: 'small secondary', onclick: async () => {
        if (await confirmDialog(`Unassign ${d.serialNumber}?`, h('p', {},
          `${who} can no longer sign in with it; it goes back to the inventory, deactivated.`),
        'Unassign')) {
          run(`${d.serialNumber} unassigned`, () => del(base));
        }
      }}, 'Unassign'));
    }
  }
  if (can.manageInventory() && !who) {
    box.append(h('button', {type: 'button', class: 'small danger', onclick: async () => {
      if (await confirmDialog(`Delete ${d.serialNumber}?`, h('p', {},
        'The token leaves the inventory. Importing its seed again cannot make used codes ' +
        'valid again.'), 'Delete')) {
        run(`${d.serialNumber} deleted`, () => del(`${DEVICES}/${enc(d.serialNumber)}`));
      }
    }}, 'Delete'));
  }
  box.append(problem);
  return box;
}

function uploadForm(refresh) {
  const file = h('input', {type: 'file', name: 'token-file',
    accept: '.csv,.xml,.pskc,text/csv,application/xml,application/pskc+xml'});
  const format = h('select', {name: 'format'},
    h('option', {value: ''}, 'Detect from the file'),
    h('option', {value: 'entra-csv'}, 'Entra CSV'),
    h('option', {value: 'oath-csv'}, 'OATH CSV'),
    h('option', {value: 'pskc'}, 'PSKC (XML)'));
  const pskcKey = h('input', {type: 'password', name: 'pskc-key', autocomplete: 'off'});
  const pskcPassword = h('input', {type: 'password', name: 'pskc-password',
    autocomplete: 'off'});
  const dry = h('input', {type: 'checkbox', name: 'dry-run', id: uid('dry')});
  const result = h('div', {id: 'import-result', 'aria-live': 'polite', role: 'status'});
  const form = h('form', {class: 'panel', 'aria-labelledby': 'upload-title', novalidate: true},
    h('h2', {id: 'upload-title'}, 'Upload tokens'),
    field('Token file', file, 'An Entra CSV, an OATH CSV or a PSKC file.').row,
    field('Format', format).row,
    h('details', {}, h('summary', {}, 'Encrypted PSKC file'),
      field('PSKC key (hex)', pskcKey, 'A pre-shared AES key of 16, 24 or 32 bytes.').row,
      field('PSKC password', pskcPassword, 'For a file protected by a password (PBKDF2).').row),
    h('div', {class: 'field check'}, dry, h('label', {for: dry.id},
      'Dry run: check the file, import nothing')),
    h('button', {type: 'submit'}, 'Upload'), result);
  if (!can.manageInventory()) {
    // Shown, not hidden, so that the page says what it would take.
    for (const c of form.querySelectorAll('input, select, button')) c.disabled = true;
    form.querySelector('h2').after(needsNote('upload-needs', 'Uploading tokens',
      NEEDS.manageInventory));
    return form;
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      showError(result, new Error('Choose a file to upload.'));
      file.focus();
      return;
    }
    const q = new URLSearchParams({fileName: f.name});
    if (format.value) q.set('format', format.value);
    if (dry.checked) q.set('dryRun', 'true');
    const headers = {};
    if (pskcKey.value) headers['X-Otpd-Pskc-Key'] = pskcKey.value.trim();
    if (pskcPassword.value) headers['X-Otpd-Pskc-Password'] = pskcPassword.value;
    const type = /\.csv$/i.test(f.name) ? 'text/csv' : 'application/octet-stream';
    try {
      const r = (await call('POST', `${DEVICES}?${q}`, await f.arrayBuffer(),
        {type, headers})).body;
      const rows = [
        ...(r.failures || []).map((x) => [String(x.position), x.serialNumber || '—', 'Failed',
          x.reason]),
        ...(r.warnings || []).map((x) => [String(x.position), x.serialNumber || '—', 'Warning',
          x.reason]),
      ];
      showOk(result,
        h('p', {}, `${r.dryRun ? 'Checked (dry run)' : 'Imported'} ${f.name} as ${r.format}: ` +
          `${r.imported} new, ${r.updated} updated, ${r.unchanged} unchanged, ${r.failed} ` +
          'failed.'),
        table('Rows that need attention', ['Row', 'Serial number', 'Result', 'Reason'], rows,
          {empty: 'Every row was accepted.'}));
      if (r.failed) result.className = 'result warn';
      await refresh();
    } catch (err) { showError(result, err); }
  });
  return form;
}
