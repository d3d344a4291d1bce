// Users through Microsoft's Graph JS SDK: create, read, page, filter, select, and Graph's errors
// (404, 403, 400, 409, 401) as GraphError with Graph's codes and innerError.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { Client, ResponseType } from '@microsoft/microsoft-graph-client';

import { everyItem, graphError, IDS, methodsOf, ODATA } from './graph.mjs';
import { otpdForFile } from './otpd_env.mjs';

const DOMAIN = 'users.example.com';
let otpd;
let admin;
let reader;

otpdForFile('users', DOMAIN, async (s) => {
  ({ otpd, admin } = s);
  reader = otpd.client(await otpd.apiKey('sdk-reader', ['reader']));
  for (const name of ['ada', 'alan', 'barbara', 'edsger', 'grace']) {
    await admin.api(`/users/${name}@${DOMAIN}`).put({ displayName: `${name} (SDK)` });
  }
});


test('a user created with PUT reads back through the SDK with its UPN as id', async () => {
  const upn = `linus@${DOMAIN}`;
  const created = await admin.api(`/users/${upn}`).put({ displayName: 'Linus' });
  assert.equal(created.userPrincipalName, upn);
  const user = await admin.api(`/users/${upn}`).get();
  assert.equal(user.id, upn);
  assert.equal(user.userPrincipalName, upn);
  assert.equal(user.displayName, 'Linus');
});

test('$top=2 pages, and PageIterator follows @odata.nextLink over every page', async () => {
  const first = await admin.api('/users').top(2).get();
  assert.equal(first.value.length, 2);
  assert.match(first['@odata.nextLink'], /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\?/);
  const { items, pages } = await everyItem(admin, first);
  const upns = items.map((u) => u.userPrincipalName).filter((u) => u.endsWith(`@${DOMAIN}`));
  for (const name of ['ada', 'alan', 'barbara', 'edsger', 'grace']) {
    assert.ok(upns.includes(`${name}@${DOMAIN}`), `${name} missing from the pages`);
  }
  assert.equal(new Set(items.map((u) => u.id)).size, items.length, 'a user came twice');
  assert.ok(pages >= 3, `only ${pages} pages of 2 for ${items.length} users`);
});

test("$filter=startswith(userPrincipalName,'a') keeps only those users", async () => {
  const page = await admin.api('/users').filter("startswith(userPrincipalName,'a')").get();
  const upns = page.value.map((u) => u.userPrincipalName).sort();
  assert.deepEqual(upns, [`ada@${DOMAIN}`, `alan@${DOMAIN}`]);
});

test('an unknown user is GraphError 404 itemNotFound', async () => {
  const e = await graphError(admin.api(`/users/nobody@${DOMAIN}`).get(), 404, 'itemNotFound');
  assert.ok(e.requestId, 'no request-id in innerError');
});

test('a reader key changing a user is GraphError 403 accessDenied naming the role', async () => {
  const e = await graphError(
    reader.api(`${methodsOf(`ada@${DOMAIN}`)}/phoneMethods`)
      .post({ phoneNumber: '+1 4255550100', phoneType: 'mobile' }),
    403, 'accessDenied');
  assert.match(e.message, /administrator/);
  const phones = await admin.api(`${methodsOf(`ada@${DOMAIN}`)}/phoneMethods`).get();
  assert.equal(phones.value.length, 0, 'the refused call added a phone');
});

test('a wrongly typed field is GraphError 400 with a message naming the field', async () => {
  const e = await graphError(admin.api(`/users/ada@${DOMAIN}`).put({ displayName: 42 }), 400);
  assert.match(e.message, /displayName/);
});

test('POST /users creates the user Graph-style and answers the user object', async () => {
  const upn = `margaret@${DOMAIN}`;
  const raw = await admin.api('/users').responseType(ResponseType.RAW).post({
    accountEnabled: true,
    displayName: 'Margaret Hamilton',
    mailNickname: 'margaret',
    userPrincipalName: upn,
    passwordProfile: {
      password: `Apollo-${crypto.randomUUID()}`,
      forceChangePasswordNextSignIn: true,
    },
  });
  assert.equal(raw.status, 201);
  const user = await raw.json();
  assert.equal(user.id, upn);
  assert.equal(user.userPrincipalName, upn);
  assert.equal(user.displayName, 'Margaret Hamilton');
  const read = await admin.api(`/users/${upn}`).get();
  assert.equal(read.userPrincipalName, upn);
  const passwords = await admin.api(`${methodsOf(upn)}/passwordMethods`).get();
  assert.equal(passwords.value.length, 1);
  assert.equal(passwords.value[0].id, IDS.password);
  assert.equal(passwords.value[0]['@odata.type'], ODATA.password);
  assert.equal(passwords.value[0].password, null);
});

test('POST /users with a UPN that exists is GraphError 409 nameAlreadyExists', async () => {
  const body = (upn) => ({
    accountEnabled: true,
    displayName: 'Twice',
    mailNickname: 'twice',
    userPrincipalName: upn,
    passwordProfile: {
      password: `Twice-${crypto.randomUUID()}`,
      forceChangePasswordNextSignIn: true,
    },
  });
  await graphError(admin.api('/users').post(body(`ada@${DOMAIN}`)), 409, 'nameAlreadyExists');
});

test('POST /users with a weak password is GraphError 400 and creates nobody', async () => {
  const upn = `weak@${DOMAIN}`;
  const e = await graphError(admin.api('/users').post({
    accountEnabled: true,
    displayName: 'Weak',
    mailNickname: 'weak',
    userPrincipalName: upn,
    passwordProfile: { password: 'abc', forceChangePasswordNextSignIn: true },
  }), 400);
  assert.match(e.message, /password/);
  await graphError(admin.api(`/users/${upn}`).get(), 404, 'itemNotFound');
});

test('$select=displayName returns displayName and leaves the other fields out', async () => {
  const user = await admin.api(`/users/ada@${DOMAIN}`).select(['displayName']).get();
  assert.equal(user.displayName, 'ada (SDK)');
  assert.ok(!('roles' in user), 'roles was not selected');
  assert.ok(!('methodCount' in user), 'methodCount was not selected');
});

test("a GraphError's innerError has request-id, date and the client-request-id sent", async () => {
  const sent = crypto.randomUUID();
  const e = await graphError(
    admin.api(`/users/nobody@${DOMAIN}`).header('client-request-id', sent).get(),
    404, 'itemNotFound');
  const inner = e.parsed.innerError;
  assert.ok(inner['request-id'], 'no request-id');
  assert.ok(!Number.isNaN(Date.parse(inner.date)), `date ${inner.date} is not a date`);
  assert.equal(inner['client-request-id'], sent);
  assert.equal(e.headers.get('client-request-id'), sent);
  assert.ok(e.headers.get('request-id'), 'no request-id header');
});

test('a wrong key is GraphError 401 with a request-id, the client-request-id echoed', async () => {
  const wrong = Client.init({
    baseUrl: otpd.baseUrl,
    customHosts: new Set(['127.0.0.1']),
    authProvider: (done) => done(null, `otpd_${crypto.randomBytes(32).toString('hex')}`),
  });
  const sent = crypto.randomUUID();
  const e = await graphError(
    wrong.api('/users').header('client-request-id', sent).get(), 401, 'InvalidAuthenticationToken');
  assert.ok(e.requestId, 'no request-id in innerError');
  assert.equal(e.parsed.innerError['client-request-id'], sent);
  assert.equal(e.headers.get('client-request-id'), sent);
});
