// otpd's rule for phone numbers: "+", a country code of 1 to 4 digits not starting with 0, one
// space, 4 to 15 digits, and optionally "x" and an extension of 1 to 10 digits. Checked here so
// that a mistyped number is explained before anything is sent; the server checks it again.
export const PHONE_RULE = 'Write it as + country code, a space, then the number: for example ' +
  '+1 4255551234.';

const PATTERN = /^\+[1-9][0-9]{0,3} [0-9]{4,15}(x[0-9]{1,10})?$/;

export function phoneProblem(number) {
  if (number === '') return 'Enter a phone number.';
  if (number.length > 40 || !PATTERN.test(number)) return `Not a valid number. ${PHONE_RULE}`;
  return '';
}

export const PHONE_TYPES = [['mobile', 'Mobile'], ['alternateMobile', 'Alternate mobile'],
  ['office', 'Office']];
