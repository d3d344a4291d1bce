// Hardware OATH tokens through Microsoft's Graph JS SDK: the inventory (create, read, filter,
// page, select, update, the beta bulk upload) and a token's life with a user (assign, activate
// with a real code, sign in on the verify socket, deactivate, unassign, delete).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { ResponseType } from '@microsoft/microsoft-graph-client';

import { DEVICES, everyItem, graphError, methodsOf, ODATA } from './graph.mjs';
import { freshTotp, hotp, newSeed } from './otp.mjs';
import { otpdForFile } from './otpd_env.mjs';

const DOMAIN = 'devices.example.com';
let otpd;
let admin;

function newSerial(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex').toUpperCase()}`;
}

// Microsoft's example body for one token, with a new serial and seed.
function deviceBody(prefix, extra = {}) {
  const seed = newSeed();
  return {
    seed,
    body: {
      serialNumber: newSerial(prefix),
      manufacturer: 'Contoso',
      model: 'Hardware Token 1000',
      secretKey: seed.base32,
      timeIntervalInSeconds: 30,
      hashFunction: 'hmacsha1',
      ...extra,
    },
  };
}

function devicePath(serial) {
  return `${DEVICES}/${encodeURIComponent(serial)}`;
}

const suite = otpdForFile('devices', DOMAIN, (s) => {
  ({ otpd, admin } = s);
});
const newUser = suite.newUser;

test('POST one device; GET it (secretKey null); find it by $filter on serialNumber', async () => {
  const { body } = deviceBody('ONE');
  const created = await admin.api(DEVICES).post(body);
  assert.equal(created['@odata.type'], ODATA.device);
  assert.equal(created.serialNumber, body.serialNumber);
  assert.equal(created.id, body.serialNumber);
  const read = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(read['@odata.type'], ODATA.device);
  assert.equal(read.secretKey, null);
  assert.equal(read.manufacturer, 'Contoso');
  assert.equal(read.model, 'Hardware Token 1000');
  assert.equal(read.hashFunction, 'hmacsha1');
  assert.equal(read.timeIntervalInSeconds, 30);
  assert.equal(read.status, 'available');
  const found = await admin.api(DEVICES).filter(`serialNumber eq '${body.serialNumber}'`).get();
  assert.deepEqual(found.value.map((d) => d.serialNumber), [body.serialNumber]);
});

test('a wrongly typed device field is GraphError 400 naming it; nothing is made', async () => {
  const { body } = deviceBody('TYPE', { timeIntervalInSeconds: '30' });
  const e = await graphError(admin.api(DEVICES).post(body), 400);
  assert.match(e.message, /timeIntervalInSeconds/);
  await graphError(admin.api(devicePath(body.serialNumber)).get(), 404, 'itemNotFound');
});

test('PageIterator pages through the inventory two devices at a time', async () => {
  const model = `Pager ${crypto.randomBytes(3).toString('hex')}`;
  const serials = [];
  for (let i = 0; i < 5; i++) {
    const { body } = deviceBody('PAGE', { model });
    await admin.api(DEVICES).post(body);
    serials.push(body.serialNumber);
  }
  const first = await admin.api(DEVICES).filter(`model eq '${model}'`).top(2).get();
  assert.equal(first.value.length, 2);
  const { items, pages } = await everyItem(admin, first);
  assert.deepEqual(items.map((d) => d.serialNumber).sort(), serials.sort());
  assert.equal(pages, 3);
  for (const d of items) assert.equal(d['@odata.type'], ODATA.device);
});

test('a TOTP token: assigned, activated by a real code, deactivated, unassigned', async () => {
  const upn = await newUser('totp');
  const { seed, body } = deviceBody('TOTP');
  await admin.api(DEVICES).post(body);
  const methods = `${methodsOf(upn)}/hardwareOathMethods`;
  const method = await admin.api(methods).post({ device: { id: body.serialNumber } });
  assert.equal(method['@odata.type'], ODATA.hardwareOath);
  assert.equal((await admin.api(devicePath(body.serialNumber)).get()).status, 'assigned');

  await admin.api(`${methods}/${method.id}/activate`)
    .post({ verificationCode: await freshTotp(seed.bytes), displayName: 'Desk token' });
  const activated = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(activated.status, 'activated');
  assert.equal(activated.assignedTo.id, upn);
  const listed = await admin.api(methods).get();
  assert.deepEqual(listed.value.map((m) => m.id), [method.id]);
  assert.equal(listed.value[0]['@odata.type'], ODATA.hardwareOath);

  await admin.api(`${methods}/${method.id}/deactivate`).post({});
  assert.equal((await admin.api(devicePath(body.serialNumber)).get()).status, 'assigned');
  await admin.api(`${methods}/${method.id}`).delete();
  const back = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(back.status, 'available');
  assert.equal(back.assignedTo, null);
  await admin.api(devicePath(body.serialNumber)).delete();
  await graphError(admin.api(devicePath(body.serialNumber)).get(), 404, 'itemNotFound');
});

test('a wrong activation code is GraphError 400 and the token stays assigned', async () => {
  const upn = await newUser('wrongcode');
  const { seed, body } = deviceBody('WRONG');
  await admin.api(DEVICES).post(body);
  const methods = `${methodsOf(upn)}/hardwareOathMethods`;
  const method = await admin.api(methods).post({ device: { id: body.serialNumber } });
  const right = await freshTotp(seed.bytes);
  const wrong = String((Number(right) + 500000) % 1000000).padStart(6, '0');
  await graphError(
    admin.api(`${methods}/${method.id}/activate`).post({ verificationCode: wrong }), 400);
  assert.notEqual((await admin.api(devicePath(body.serialNumber)).get()).status, 'activated');
});

test('an HOTP token activated through the SDK signs in on the verify socket', async () => {
  const upn = await newUser('hotp');
  const { seed, body } = deviceBody('HOTP', { type: 'hotp', counter: 0 });
  delete body.timeIntervalInSeconds;
  await admin.api(DEVICES).post(body);
  const methods = `${methodsOf(upn)}/hardwareOathMethods`;
  const method = await admin.api(methods).post({ device: { id: body.serialNumber } });
  assert.match(await otpd.verify(upn, hotp(seed.bytes, 0)), /^FAIL\t/,
    'signed in before activation');
  await admin.api(`${methods}/${method.id}/activate`)
    .post({ verificationCode: hotp(seed.bytes, 1) });
  const reply = await otpd.verify(upn, hotp(seed.bytes, 2));
  assert.match(reply, /^OK\tv1\t/);
  assert.match(reply, new RegExp(`\\tserial=${body.serialNumber}(\\t|$)`));
  assert.match(await otpd.verify(upn, hotp(seed.bytes, 2)), /^FAIL\tv1\treason=replayed/);
  await admin.api(`${methods}/${method.id}/deactivate`).post({});
  assert.match(await otpd.verify(upn, hotp(seed.bytes, 3)), /^FAIL\t/,
    'signed in after deactivation');
});

test("POST with Microsoft's example displayName is accepted and the GET shows it", async () => {
  const { body } = deviceBody('NAMED', { displayName: 'Amy Hardware Token' });
  await admin.api(DEVICES).post(body);
  const read = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(read.displayName, 'Amy Hardware Token');
});

test("$select=id,serialNumber keeps only those and @odata annotations in every item", async () => {
  for (let i = 0; i < 2; i++) await admin.api(DEVICES).post(deviceBody('SELECT').body);
  const page = await admin.api(DEVICES).select('id,serialNumber').get();
  assert.ok(page.value.length >= 2);
  for (const item of page.value) {
    const keys = Object.keys(item).filter((k) => !k.startsWith('@odata.'));
    assert.deepEqual(keys.sort(), ['id', 'serialNumber'], `item ${item.id}`);
  }
});

test('the beta bulk upload (PATCH with @context #$delta) creates every device', async () => {
  const entries = [deviceBody('BULK').body, deviceBody('BULK').body]
    .map((b, i) => ({ '@contentId': String(i + 1), ...b }));
  const answer = await admin.api(DEVICES).version('beta')
    .patch({ '@context': '#$delta', value: entries });
  assert.deepEqual(answer.value.map((d) => d.serialNumber).sort(),
    entries.map((e) => e.serialNumber).sort());
  for (const d of answer.value) {
    assert.equal(d['@odata.type'], ODATA.device);
    assert.equal(d.id, d.serialNumber);
    assert.equal(d.manufacturer, 'Contoso');
    assert.equal(d.secretKey, null);
  }
  for (const e of entries) {
    const read = await admin.api(devicePath(e.serialNumber)).version('beta').get();
    assert.equal(read.model, 'Hardware Token 1000');
  }
});

test('a bulk upload with one bad entry creates none and names the entry', async () => {
  const good = { '@contentId': '1', ...deviceBody('BAD').body };
  const bad = { '@contentId': '2', ...deviceBody('BAD').body, secretKey: 'not base32!' };
  const e = await graphError(admin.api(DEVICES).version('beta')
    .patch({ '@context': '#$delta', value: [good, bad] }), 400);
  assert.match(e.message, /secretKey/);
  assert.match(e.message, /\[1\]|contentId\W+2\b/,
    `the message does not name the entry: ${e.message}`);
  await graphError(admin.api(devicePath(good.serialNumber)).get(), 404, 'itemNotFound');
});

test("PATCH of an unassigned device's hashFunction and interval; 409 once assigned", async () => {
  const { body } = deviceBody('PATCH');
  await admin.api(DEVICES).post(body);
  const raw = await admin.api(devicePath(body.serialNumber)).responseType(ResponseType.RAW)
    .patch({ hashFunction: 'hmacsha256', timeIntervalInSeconds: 60 });
  assert.equal(raw.status, 204);
  const read = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(read.hashFunction, 'hmacsha256');
  assert.equal(read.timeIntervalInSeconds, 60);

  const upn = await newUser('patched');
  await admin.api(`${methodsOf(upn)}/hardwareOathMethods`)
    .post({ device: { id: body.serialNumber } });
  await graphError(admin.api(devicePath(body.serialNumber))
    .patch({ hashFunction: 'hmacsha1', timeIntervalInSeconds: 30 }), 409);
  const after409 = await admin.api(devicePath(body.serialNumber)).get();
  assert.equal(after409.hashFunction, 'hmacsha256');
});
