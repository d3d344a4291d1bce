// "Add sign-in method": an authenticator app (QR code, then its first code), a phone (a code is
// sent to it, then typed here) or an email address.
import {enc, post} from './api.js';
import {announce, clear, field, fieldError, h, liveRegion, showError} from './dom.js';
import {PHONE_TYPES, phoneProblem, PHONE_RULE} from './phone.js';

const CHOICES = [['app', 'Authenticator app'], ['phone', 'Phone'], ['email', 'Email']];

// `done()` runs after a method was added. `first`: the choice to open at once (or none).
export function renderAddMethod(done, first) {
  const form = h('div', {class: 'method-form', id: 'add-method-form'});
  const choose = (kind) => {
    for (const b of choices.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', String(b.dataset.kind === kind));
    }
    clear(form).append({app: appForm, phone: phoneForm, email: emailForm}[kind](done));
    const input = form.querySelector('input, select');
    if (input) input.focus();
  };
  const choices = h('div', {class: 'choices', role: 'group', 'aria-label': 'Kind of method'},
    CHOICES.map(([kind, label]) => h('button', {type: 'button', class: 'secondary',
      'aria-pressed': 'false', dataset: {kind}, id: `add-${kind}`, onclick: () => choose(kind)},
    label)));
  const region = h('section', {class: 'panel', id: 'add-method-panel', hidden: !first,
    'aria-labelledby': 'add-title'},
  h('h2', {id: 'add-title'}, 'Add a sign-in method'), choices, form);
  const open = h('button', {type: 'button', id: 'add-method', 'aria-expanded': String(!!first),
    'aria-controls': 'add-method-panel', onclick: () => {
      region.hidden = !region.hidden;
      open.setAttribute('aria-expanded', String(!region.hidden));
      if (!region.hidden) choices.querySelector('button').focus();
    }}, 'Add sign-in method');
  if (first) choose(first);
  return h('div', {class: 'add-method'}, open, region);
}

function appForm(done) {
  const name = field('Name for this app',
    h('input', {name: 'app-name', type: 'text', value: 'Authenticator app', maxlength: 128}),
    'Shown in your list of methods, to tell your apps apart.');
  const result = liveRegion();
  const step2 = h('div', {});
  const form = h('form', {novalidate: true},
    h('p', {}, 'Install an authenticator app on your phone (for example Microsoft ' +
      'Authenticator or Google Authenticator), then choose Next to get a QR code for it.'),
    name.row, h('button', {type: 'submit'}, 'Next'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = (await post('/v1.0/me/authentication/softwareOathMethods',
        {displayName: name.input.value.trim() || 'Authenticator app'})).body;
      form.hidden = true;
      clear(step2).append(confirmApp(r, done));
      step2.querySelector('input').focus();
    } catch (err) { showError(result, err); }
  });
  return h('div', {}, form, step2);
}

// The QR code as an <img> of a data: URI: the SVG never becomes part of the page's markup, and an
// <img> runs no script in it.
function qrImage(svg) {
  return h('img', {src: `data:image/svg+xml,${encodeURIComponent(svg)}`, class: 'qr',
    width: 200, height: 200, alt: 'QR code for your authenticator app'});
}

// The key in groups of four, as authenticator apps show and accept it.
function grouped(secret) {
  return (secret || '').replace(/\s+/g, '').match(/.{1,4}/g)?.join(' ') || '';
}

function copyButton(label, value) {
  const b = h('button', {type: 'button', class: 'secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select the text and copy it';
    }
  }}, label);
  return b;
}

function confirmApp(enrolment, done) {
  const code = field('Code from the app',
    h('input', {name: 'verification-code', type: 'text', inputmode: 'numeric',
      autocomplete: 'one-time-code', maxlength: 8}),
    'The 6-digit code the app shows now for this account.');
  const form = h('form', {novalidate: true},
    h('p', {}, 'Scan the QR code with the app. If you cannot scan it, add the account by hand ' +
      'with the key, or open the link on the phone. Shown this once.'),
    qrImage(enrolment.qrCodeSvg),
    h('p', {}, h('strong', {}, 'Link: '),
      h('output', {id: 'otpauth-uri', class: 'secret'}, enrolment.otpauthUri)),
    copyButton('Copy link', enrolment.otpauthUri),
    h('p', {}, h('strong', {}, 'Key: '),
      h('output', {id: 'secret-key', class: 'secret'}, grouped(enrolment.secretKey))),
    copyButton('Copy key', (enrolment.secretKey || '').replace(/\s+/g, '')),
    code.row, h('button', {type: 'submit'}, 'Verify'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = code.input.value.trim();
    if (!/^[0-9]{6,8}$/.test(value)) {
      fieldError(code, 'Enter the 6 digits the app shows.');
      code.input.focus();
      return;
    }
    try {
      await post(`/v1.0/me/authentication/softwareOathMethods/${enc(enrolment.id)}/confirm`,
        {verificationCode: value});
      announce('Authenticator app added');
      await done('Authenticator app added.');
    } catch (err) {
      fieldError(code, err.describe());
      code.input.focus();
    }
  });
  return form;
}

function phoneForm(done) {
  const type = field('Phone type', h('select', {name: 'phone-type'},
    PHONE_TYPES.map(([value, label]) => h('option', {value}, label))),
  'A mobile phone gets a text message; the others get a call.');
  const number = field('Phone number', h('input', {name: 'phone-number', type: 'tel',
    autocomplete: 'tel', placeholder: '+1 4255551234'}), PHONE_RULE);
  const step2 = h('div', {});
  const form = h('form', {novalidate: true}, type.row, number.row,
    h('button', {type: 'submit'}, 'Send code'));
  const body = () => ({phoneNumber: number.input.value.trim(), phoneType: type.input.value});
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problem = phoneProblem(number.input.value.trim());
    fieldError(number, problem);
    if (problem) {
      number.input.focus();
      return;
    }
    try {
      const sent = (await post('/v1.0/me/authentication/phoneMethods', body())).body || {};
      form.hidden = true;
      clear(step2).append(confirmPhone(body(), sent.channel, done));
      step2.querySelector('input').focus();
    } catch (err) {
      fieldError(number, err.describe());
      number.input.focus();
    }
  });
  return h('div', {}, form, step2);
}

// `channel`: how the code went ("sms" or "voice"; by the phone's type when not said).
function confirmPhone(body, channel, done) {
  const bySms = channel ? channel === 'sms' : body.phoneType === 'mobile';
  const how = bySms ? 'We sent a code by text message to' : 'We are calling with a code';
  const code = field('Code', h('input', {name: 'phone-code', type: 'text', inputmode: 'numeric',
    autocomplete: 'one-time-code', maxlength: 8}), `${how} ${body.phoneNumber}.`);
  const form = h('form', {novalidate: true}, code.row, h('button', {type: 'submit'}, 'Verify'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = code.input.value.trim();
    if (!/^[0-9]{4,10}$/.test(value)) {
      fieldError(code, 'Enter the code we sent.');
      code.input.focus();
      return;
    }
    try {
      await post('/v1.0/me/authentication/phoneMethods', {...body, verificationCode: value});
      announce('Phone added');
      await done('Phone added.');
    } catch (err) {
      fieldError(code, err.describe());
      code.input.focus();
    }
  });
  return form;
}

function emailForm(done) {
  const address = field('Email address', h('input', {name: 'email-address', type: 'email',
    autocomplete: 'email'}), 'Used to reset your password, never to sign in.');
  const form = h('form', {novalidate: true}, address.row,
    h('button', {type: 'submit'}, 'Add email'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!address.input.value.trim()) {
      fieldError(address, 'Enter an email address.');
      address.input.focus();
      return;
    }
    try {
      await post('/v1.0/me/authentication/emailMethods',
        {emailAddress: address.input.value.trim()});
      announce('Email added');
      await done('Email added.');
    } catch (err) {
      fieldError(address, err.describe());
      address.input.focus();
    }
  });
  return form;
}
