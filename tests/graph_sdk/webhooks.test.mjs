// otpd's webhook signatures checked by Standard Webhooks' own reference verifier (the npm package
// standardwebhooks): a change made through the Graph SDK reaches a receiver on loopback, the
// verifier accepts it with the hook's secret, and refuses it once the body, the signature or the
// secret is not the one otpd signed with.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import { IDS, methodsOf } from './graph.mjs';
import { otpdForFile } from './otpd_env.mjs';

const DOMAIN = 'hooks.example.com';
let otpd;
let admin;

otpdForFile('webhooks', DOMAIN, (s) => {
  ({ otpd, admin } = s);
});

// A phone added through the SDK to a new user; the delivery of its method.added event.
async function phoneAddedDelivery() {
  const upn = `hook-${crypto.randomBytes(3).toString('hex')}@${DOMAIN}`;
  await admin.api(`/users/${upn}`).put({ displayName: 'Hooked' });
  await admin.api(`${methodsOf(upn)}/phoneMethods`)
    .post({ phoneNumber: '+1 4255550142', phoneType: 'mobile' });
  const delivery = await otpd.webhooks.waitFor(
    (e) => e.type === 'method.added' && e.user === upn && e.data?.kind === 'phone',
    `method.added for ${upn}`);
  return { upn, delivery };
}

test('a phone added by the SDK reaches the receiver; standardwebhooks verifies it', async () => {
  const { upn, delivery } = await phoneAddedDelivery();
  const event = new Webhook(otpd.webhooks.secret).verify(delivery.body, delivery.headers);
  assert.equal(event.type, 'method.added');
  assert.equal(event.user, upn);
  assert.equal(event.data.id, IDS.mobile);
  assert.equal(event.id, delivery.headers['webhook-id']);
  assert.match(delivery.headers['content-type'], /^application\/json/);
});

test('the verifier refuses a tampered body, a tampered signature and another secret', async () => {
  const { delivery } = await phoneAddedDelivery();
  const verifier = new Webhook(otpd.webhooks.secret);
  verifier.verify(delivery.body, delivery.headers);

  const body = delivery.body.replace('"method.added"', '"method.deleted"');
  assert.notEqual(body, delivery.body);
  assert.throws(() => verifier.verify(body, delivery.headers), WebhookVerificationError);

  const signature = delivery.headers['webhook-signature'];
  const flipped = signature.replace(/,(.)/, (_, c) => `,${c === 'A' ? 'B' : 'A'}`);
  assert.throws(() => verifier.verify(delivery.body,
    { ...delivery.headers, 'webhook-signature': flipped }), WebhookVerificationError);

  const other = new Webhook(`whsec_${crypto.randomBytes(32).toString('base64')}`);
  assert.throws(() => other.verify(delivery.body, delivery.headers), WebhookVerificationError);
});
