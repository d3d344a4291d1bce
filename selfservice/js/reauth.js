// The re-authentication dialog: a change to methods or the password needs a second factor proved
// in the last minutes; when the server asks for it, the user types a code here and the change is
// sent again.
import {ApiError, post} from './api.js';
import {field, fieldError, h, modal} from './dom.js';

export function askForCode() {
  return modal('Verify it is you', (close) => {
    const f = field('Verification code',
      h('input', {name: 'reauth-code', type: 'text', autocomplete: 'one-time-code',
        maxlength: 64}),
      'A code from your authenticator app or hardware token; without one yet, your Temporary ' +
      'Access Pass.');
    const form = h('form', {novalidate: true},
      h('p', {}, 'This change needs a fresh code from you.'), f.row,
      h('div', {class: 'actions'},
        h('button', {type: 'submit'}, 'Verify'),
        h('button', {type: 'button', class: 'secondary', onclick: () => close(false)},
          'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const code = f.input.value.trim();
      // A pass always holds a letter; a code is digits only.
      const isPass = /[^0-9]/.test(code);
      if (!code || (!isPass && !/^[0-9]{6,8}$/.test(code))) {
        fieldError(f, 'Enter the 6 to 8 digits your app or token shows.');
        f.input.focus();
        return;
      }
      try {
        await post('/selfservice/reauth', isPass ? {temporaryAccessPass: code} :
          {verificationCode: code});
        close(true);
      } catch (err) {
        if (err.code === 'InvalidAuthenticationToken') {
          close(false);  // the session ended meanwhile: the sign-in view is showing
          return;
        }
        fieldError(f, err instanceof ApiError && err.status === 401 ?
          'That is not right; wait for the next code and try again.' : err.describe());
        f.input.value = '';
        f.input.focus();
      }
    });
    return form;
  }).then((v) => v === true);
}
