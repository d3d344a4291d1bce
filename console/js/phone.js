// The daemon's rule for phone numbers (service/admin/method_admin.cc, CheckPhoneNumber): "+", a country
// code of 1 to 4 digits not starting with 0, one space, 4 to 15 digits, and optionally "x" and an
// extension of 1 to 10 digits.
export const PHONE_RULE = 'Write it as + country code, a space, then the number, with an ' +
  'optional x and extension: for example +1 4255551234 or +1 5555551234x123.';

const PATTERN = /^\+[1-9][0-9]{0,3} [0-9]{4,15}(x[0-9]{1,10})?$/;

export function phoneProblem(number) {
  if (number === '') return 'Enter a phone number.';
  if (number.length > 40 || !PATTERN.test(number)) return PHONE_RULE;
  return '';
}
