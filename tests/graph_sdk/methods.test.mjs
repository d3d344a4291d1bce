// A user's authentication methods through Microsoft's Graph JS SDK: phones, e-mail, temporary
// access passes, authenticator apps, the password method, any method by its id, and the password
// reset's long-running operation followed from its Location header.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { ResponseType } from '@microsoft/microsoft-graph-client';

import { DEVICES, graphError, IDS, methodsOf, ODATA } from './graph.mjs';
import { newSeed } from './otp.mjs';
import { otpdForFile } from './otpd_env.mjs';

const DOMAIN = 'methods.example.com';
let otpd;
let admin;

// Users made with PUT (no password) under fresh names.
const suite = otpdForFile('methods', DOMAIN, (s) => {
  ({ otpd, admin } = s);
});
const newUser = suite.newUser;

test("a phone takes Graph's fixed id per phoneType; get, patch, SMS sign-in, delete", async () => {
  const phones = `${methodsOf(await newUser('phone'))}/phoneMethods`;
  const mobile = await admin.api(phones)
    .post({ phoneNumber: '+1 4255550101', phoneType: 'mobile' });
  assert.equal(mobile.id, IDS.mobile);
  assert.equal(mobile['@odata.type'], ODATA.phone);
  assert.equal(mobile.smsSignInState, 'notEnabled');
  const office = await admin.api(phones)
    .post({ phoneNumber: '+1 4255550102', phoneType: 'office' });
  assert.equal(office.id, IDS.office);
  const alternate = await admin.api(phones)
    .post({ phoneNumber: '+1 4255550103', phoneType: 'alternateMobile' });
  assert.equal(alternate.id, IDS.alternateMobile);

  await admin.api(`${phones}/${IDS.mobile}`)
    .patch({ phoneNumber: '+1 4255550199', phoneType: 'mobile' });
  let read = await admin.api(`${phones}/${IDS.mobile}`).get();
  assert.equal(read.phoneNumber, '+1 4255550199');
  assert.equal(read['@odata.type'], ODATA.phone);

  await admin.api(`${phones}/${IDS.mobile}/enableSmsSignIn`).post({});
  read = await admin.api(`${phones}/${IDS.mobile}`).get();
  assert.equal(read.smsSignInState, 'ready');

  await admin.api(`${phones}/${IDS.office}`).delete();
  await graphError(admin.api(`${phones}/${IDS.office}`).get(), 404, 'itemNotFound');
  const list = await admin.api(phones).get();
  assert.deepEqual(list.value.map((p) => p.id).sort(), [IDS.mobile, IDS.alternateMobile].sort());
});

test('the e-mail method: create, get, patch, delete under its fixed id', async () => {
  const emails = `${methodsOf(await newUser('email'))}/emailMethods`;
  const created = await admin.api(emails).post({ emailAddress: 'someone@home.example.org' });
  assert.equal(created.id, IDS.email);
  assert.equal(created['@odata.type'], ODATA.email);
  await admin.api(`${emails}/${IDS.email}`).patch({ emailAddress: 'other@home.example.org' });
  const read = await admin.api(`${emails}/${IDS.email}`).get();
  assert.equal(read.emailAddress, 'other@home.example.org');
  assert.equal((await admin.api(emails).get()).value.length, 1);
  await admin.api(`${emails}/${IDS.email}`).delete();
  assert.equal((await admin.api(emails).get()).value.length, 0);
});

test('a temporary access pass: create (shown once), list, get without it, delete', async () => {
  const taps = `${methodsOf(await newUser('tap'))}/temporaryAccessPassMethods`;
  const created = await admin.api(taps).post({ lifetimeInMinutes: 60, isUsableOnce: true });
  assert.equal(created['@odata.type'], ODATA.tap);
  assert.equal(typeof created.temporaryAccessPass, 'string');
  assert.ok(created.temporaryAccessPass.length >= 8, 'the pass is too short');
  assert.equal(created.isUsableOnce, true);
  const list = await admin.api(taps).get();
  assert.deepEqual(list.value.map((t) => t.id), [created.id]);
  const read = await admin.api(`${taps}/${created.id}`).get();
  assert.equal(read['@odata.type'], ODATA.tap);
  assert.equal(read.lifetimeInMinutes, 60);
  assert.ok(!read.temporaryAccessPass, 'the pass was shown a second time');
  await admin.api(`${taps}/${created.id}`).delete();
  await graphError(admin.api(`${taps}/${created.id}`).get(), 404, 'itemNotFound');
});

test('authenticator apps are listed with Graph type and no secret', async () => {
  const apps = `${methodsOf(await newUser('app'))}/softwareOathMethods`;
  const enrolled = await admin.api(apps).post({ displayName: 'Phone app' });
  const list = await admin.api(apps).get();
  assert.equal(list.value.length, 1);
  assert.equal(list.value[0].id, enrolled.id);
  assert.equal(list.value[0]['@odata.type'], ODATA.softwareOath);
  assert.equal(list.value[0].secretKey, null);
});

test('resetPassword answers 202 with a Location the SDK follows to the operation', async () => {
  const upn = await newUser('reset');
  const raw = await admin.api(`${methodsOf(upn)}/methods/${IDS.password}/resetPassword`)
    .responseType(ResponseType.RAW).post({});
  assert.equal(raw.status, 202);
  const location = raw.headers.get('location');
  assert.ok(location, 'no Location header');
  const op = await admin.api(location).get();
  assert.equal(op.status, 'succeeded');
  assert.ok(op.id, 'no operation id');
});

test("resetPassword's Location is Graph's operations path, a longRunningOperation", async () => {
  const upn = await newUser('operation');
  const raw = await admin.api(`${methodsOf(upn)}/methods/${IDS.password}/resetPassword`)
    .responseType(ResponseType.RAW).post({ newPassword: `Reset-${crypto.randomUUID()}` });
  assert.equal(raw.status, 202);
  const location = raw.headers.get('location');
  const expected = new RegExp(
    `^${otpd.baseUrl.replace(/\./g, '\\.')}/v1\\.0/users/${upn.replace(/\./g, '\\.')}` +
    '/authentication/operations/([^/?]+)$');
  const m = expected.exec(location);
  assert.ok(m, `Location ${location} is not .../users/{upn}/authentication/operations/{id}`);
  const op = await admin.api(location).get();
  assert.equal(op.id, decodeURIComponent(m[1]));
  assert.equal(op.status, 'succeeded');
  for (const field of ['createdDateTime', 'lastActionDateTime']) {
    assert.ok(!Number.isNaN(Date.parse(op[field])), `${field} ${op[field]} is not a date`);
  }
  assert.ok('statusDetail' in op, 'no statusDetail');
  if ('@odata.type' in op) assert.equal(op['@odata.type'], ODATA.operation);
  assert.ok(op.resourceLocation, 'no resourceLocation');
});

test('passwordMethods lists the password method once the user has one', async () => {
  const upn = await newUser('password');
  const path = `${methodsOf(upn)}/passwordMethods`;
  await graphError(admin.api(`${path}/${IDS.password}`).get(), 404, 'itemNotFound');
  await admin.api(`${methodsOf(upn)}/methods/${IDS.password}/resetPassword`)
    .post({ newPassword: `Pw-${crypto.randomUUID()}` });
  const list = await admin.api(path).get();
  assert.equal(list.value.length, 1);
  const [method] = list.value;
  assert.equal(method.id, IDS.password);
  assert.equal(method['@odata.type'], ODATA.password);
  assert.equal(method.password, null);
  const one = await admin.api(`${path}/${IDS.password}`).get();
  assert.deepEqual(one, method);
});

test('passwordMethods/{id} is 404 for a user without a password', async () => {
  const upn = await newUser('nopassword');
  await graphError(admin.api(`${methodsOf(upn)}/passwordMethods/${IDS.password}`).get(),
    404, 'itemNotFound');
  const list = await admin.api(`${methodsOf(upn)}/passwordMethods`).get();
  assert.equal(list.value.length, 0);
});

test('methods/{id} returns any kind of method by its id, 404 for an unknown one', async () => {
  const upn = await newUser('any');
  const base = methodsOf(upn);
  await admin.api(`${base}/phoneMethods`)
    .post({ phoneNumber: '+1 4255550104', phoneType: 'mobile' });
  await admin.api(`${base}/emailMethods`).post({ emailAddress: 'any@home.example.org' });
  const app = await admin.api(`${base}/softwareOathMethods`).post({});
  await admin.api(`${base}/methods/${IDS.password}/resetPassword`)
    .post({ newPassword: `Any-${crypto.randomUUID()}` });
  const serial = `ANY-${crypto.randomBytes(4).toString('hex').toUpperCase()}`;
  await admin.api(DEVICES).post({
    serialNumber: serial, secretKey: newSeed().base32,
    manufacturer: 'Contoso', model: 'H1', hashFunction: 'hmacsha1', timeIntervalInSeconds: 30,
  });
  const hardware = await admin.api(`${base}/hardwareOathMethods`).post({ device: { id: serial } });

  const expected = [
    [IDS.mobile, ODATA.phone], [IDS.email, ODATA.email], [app.id, ODATA.softwareOath],
    [IDS.password, ODATA.password], [hardware.id, ODATA.hardwareOath],
  ];
  for (const [id, type] of expected) {
    const method = await admin.api(`${base}/methods/${id}`).get();
    assert.equal(method.id, id);
    assert.equal(method['@odata.type'], type, `the type of method ${id}`);
  }
  await graphError(admin.api(`${base}/methods/00000000-0000-0000-0000-000000000000`).get(),
    404, 'itemNotFound');
});
