// What the tests check of Graph's shapes: the @odata.type names Microsoft Graph gives each
// resource, GraphError's fields, and paging with the SDK's own PageIterator.

import assert from 'node:assert/strict';

import { GraphError, PageIterator } from '@microsoft/microsoft-graph-client';

export const ODATA = {
  device: '#microsoft.graph.hardwareOathTokenAuthenticationMethodDevice',
  hardwareOath: '#microsoft.graph.hardwareOathAuthenticationMethod',
  softwareOath: '#microsoft.graph.softwareOathAuthenticationMethod',
  phone: '#microsoft.graph.phoneAuthenticationMethod',
  email: '#microsoft.graph.emailAuthenticationMethod',
  password: '#microsoft.graph.passwordAuthenticationMethod',
  tap: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
  operation: '#microsoft.graph.longRunningOperation',
};

// Graph's fixed method ids.
export const IDS = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
  email: '3ddfcfc8-9383-446f-83cc-3ab9be4be18f',
  password: '28c10230-6103-485e-b985-444c60001490',
};

export const DEVICES = '/directory/authenticationMethodDevices/hardwareOathDevices';

export function methodsOf(upn) {
  return `/users/${encodeURIComponent(upn)}/authentication`;
}

// The GraphError a call must fail with; its status and code checked, its parsed body attached.
export async function graphError(call, statusCode, code) {
  let error;
  try {
    await call;
  } catch (e) {
    error = e;
  }
  assert.ok(error, `the call succeeded; expected ${statusCode} ${code}`);
  assert.ok(error instanceof GraphError, `not a GraphError: ${error}`);
  assert.equal(error.statusCode, statusCode, `status of: ${error.message}`);
  if (code !== undefined) assert.equal(error.code, code, `code of: ${error.message}`);
  try {
    error.parsed = JSON.parse(error.body);
  } catch {
    error.parsed = null;
  }
  return error;
}

// Every item of a collection through the SDK's PageIterator, following @odata.nextLink; the
// number of pages it took as well.
export async function everyItem(client, firstPage) {
  const items = [];
  let pages = 1;
  const iterator = new PageIterator(client, firstPage, (item) => {
    items.push(item);
    return true;
  });
  const realFetch = iterator.fetchAndUpdateNextPageData.bind(iterator);
  iterator.fetchAndUpdateNextPageData = async () => {
    pages += 1;
    await realFetch();
  };
  await iterator.iterate();
  return { items, pages };
}
