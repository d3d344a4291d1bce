// "+ Add authentication method": phone, email, authenticator app (software token), temporary
// access pass.
import {post, userPath} from '../api.js';
import {announce, clear, field, h, liveRegion, secretBox, showError, showOk,
  uid} from '../dom.js';
import {PHONE_RULE, phoneProblem} from '../phone.js';

// `methods`: the user's methods now, so that the forms do not offer what they hold already.
export function renderAddMethod(upn, methods, rerender) {
  const area = h('div', {class: 'add-method'});
  const kind = h('select', {name: 'method-kind'},
    h('option', {value: 'phone'}, 'Phone number'),
    h('option', {value: 'email'}, 'Email'),
    h('option', {value: 'software'}, 'Authenticator app (software OATH token)'),
    h('option', {value: 'tap'}, 'Temporary Access Pass'));
  const form = h('div', {class: 'method-form'});
  const region = h('section', {class: 'panel', hidden: true, 'aria-labelledby': 'add-title'},
    h('h2', {id: 'add-title'}, 'Add authentication method'),
    field('Choose method', kind).row, form);
  const open = h('button', {type: 'button', id: 'add-method', 'aria-expanded': 'false',
    onclick: () => {
      region.hidden = !region.hidden;
      open.setAttribute('aria-expanded', String(!region.hidden));
      if (!region.hidden) kind.focus();
    }}, '+ Add authentication method');
  const show = () => {
    clear(form);
    const make = {phone: phoneForm, email: emailForm, software: softwareForm, tap: tapForm};
    form.append(make[kind.value](upn, rerender, methods));
  };
  kind.addEventListener('change', show);
  show();
  area.append(open, region);
  return area;
}

const PHONE_TYPES = [['mobile', 'Mobile'], ['alternateMobile', 'Alternate mobile'],
  ['office', 'Office']];

function phoneForm(upn, rerender, methods) {
  // A user has at most one phone of each type: the form starts on the first type still free.
  const taken = new Set(methods.filter((m) => (m['@odata.type'] || '').includes('phone'))
    .map((m) => m.phoneType));
  const free = PHONE_TYPES.find(([value]) => !taken.has(value));
  const type = h('select', {name: 'phone-type'}, PHONE_TYPES.map(([value, label]) =>
    h('option', {value, selected: free && free[0] === value}, label +
      (taken.has(value) ? ' (has one)' : ''))));
  const number = h('input', {name: 'phone-number', type: 'tel', autocomplete: 'off',
    placeholder: '+1 4255551234', 'aria-invalid': 'false'});
  const problem = h('p', {class: 'field-error', id: uid('phone-problem'), 'aria-live': 'polite'});
  const f = field('Phone number', number, PHONE_RULE);
  number.setAttribute('aria-describedby', `${f.hint.id} ${problem.id}`);
  const result = liveRegion();
  const check = () => {
    const p = number.value === '' ? '' : phoneProblem(number.value);
    problem.textContent = p ? `Not a valid number. ${p}` : '';
    number.setAttribute('aria-invalid', p ? 'true' : 'false');
    return !p && number.value !== '';
  };
  number.addEventListener('input', check);
  const form = h('form', {novalidate: true}, field('Phone type', type).row, f.row, problem,
    h('button', {type: 'submit'}, 'Add phone'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!check()) {
      problem.textContent = `Not a valid number. ${phoneProblem(number.value)}`;
      number.setAttribute('aria-invalid', 'true');
      number.focus();
      return;
    }
    try {
      await post(`${userPath(upn)}/authentication/phoneMethods`,
        {phoneNumber: number.value, phoneType: type.value});
      announce('Phone added');
      await rerender();
    } catch (err) { showError(result, err); }
  });
  return form;
}

function emailForm(upn, rerender) {
  const address = h('input', {name: 'email-address', type: 'email', autocomplete: 'off'});
  const result = liveRegion();
  const form = h('form', {novalidate: true},
    field('Email address', address,
      'Email serves self-service password reset only, never multifactor sign-in.').row,
    h('button', {type: 'submit'}, 'Add email'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`${userPath(upn)}/authentication/emailMethods`, {emailAddress: address.value});
      announce('Email added');
      await rerender();
    } catch (err) { showError(result, err); }
  });
  return form;
}

// The QR code as an <img> from a blob: URL: the SVG is never put into the page as markup, and an
// <img> runs no script in it.
function qrImage(svg, alt) {
  const url = URL.createObjectURL(new Blob([svg], {type: 'image/svg+xml'}));
  return h('img', {src: url, alt, class: 'qr', width: 200, height: 200});
}

function softwareForm(upn, rerender) {
  const name = h('input', {name: 'app-name', type: 'text', value: 'Authenticator app'});
  const result = liveRegion();
  const step2 = h('div', {class: 'enrolment'});
  const form = h('form', {novalidate: true}, field('Display name', name).row,
    h('button', {type: 'submit'}, 'Create QR code'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = (await post(`${userPath(upn)}/authentication/softwareOathMethods`,
        {displayName: name.value})).body;
      clear(result);
      clear(step2).append(confirmStep(upn, r, rerender));
      step2.querySelector('input[name=verification-code]').focus();
    } catch (err) { showError(result, err); }
  });
  return h('div', {}, form, step2);
}

function confirmStep(upn, enrolment, rerender) {
  const code = h('input', {name: 'verification-code', inputmode: 'numeric',
    autocomplete: 'one-time-code', pattern: '[0-9]{6,8}', maxlength: 8});
  const result = liveRegion();
  const form = h('form', {novalidate: true},
    h('p', {}, 'Scan this code with the authenticator app, or enter the key by hand. ' +
      'It is shown this once.'),
    qrImage(enrolment.qrCodeSvg, `QR code to add ${upn} to an authenticator app`),
    h('p', {}, h('strong', {}, 'URI: '), h('output', {id: 'otpauth-uri', class: 'secret'},
      enrolment.otpauthUri)),
    h('p', {}, h('strong', {}, 'Key: '), h('output', {id: 'secret-key', class: 'secret'},
      enrolment.secretKey)),
    field('Code from the app', code, 'The app shows a new code every 30 seconds.').row,
    h('button', {type: 'submit'}, 'Confirm'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`${userPath(upn)}/authentication/softwareOathMethods/` +
        `${encodeURIComponent(enrolment.id)}/confirm`, {verificationCode: code.value.trim()});
      announce('Authenticator app confirmed');
      await rerender();
    } catch (err) { showError(result, err); }
  });
  return form;
}

function tapForm(upn, rerender) {
  const lifetime = h('input', {name: 'tap-lifetime', type: 'number', min: 10, max: 43200,
    value: 60});
  const once = h('input', {name: 'tap-once', type: 'checkbox', checked: true});
  const result = liveRegion();
  const form = h('form', {novalidate: true},
    field('Lifetime in minutes', lifetime, 'From 10 minutes to 30 days (43200).').row,
    h('div', {class: 'field check'}, once, h('label', {for: (once.id = uid('once'))},
      'One-time use')),
    h('button', {type: 'submit'}, 'Add Temporary Access Pass'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const minutes = Number(lifetime.value);
    if (!Number.isInteger(minutes) || minutes < 10 || minutes > 43200) {
      showError(result, new Error('The lifetime must be a whole number of minutes from 10 to ' +
        '43200.'));
      lifetime.focus();
      return;
    }
    try {
      const r = (await post(`${userPath(upn)}/authentication/temporaryAccessPassMethods`,
        {lifetimeInMinutes: minutes, isUsableOnce: once.checked})).body;
      showOk(result, h('p', {}, `A Temporary Access Pass for ${upn}, valid ${minutes} minutes` +
        `${once.checked ? ', usable once' : ''}.`),
      secretBox('Temporary Access Pass', r.temporaryAccessPass, 'tap'),
      h('button', {type: 'button', class: 'secondary', name: 'done', onclick: rerender}, 'Done'));
    } catch (err) { showError(result, err); }
  });
  return form;
}
