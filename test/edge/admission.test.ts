import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { uniqueName } from '../helpers/env.js';
import { BROWSER, edgeApp, metricValue } from './helpers.js';

const prefix = uniqueName(import.meta.url);

test('when overload rises, then browse is shed first, cart next and checkout last, each 503 with Retry-After; probes are never shed', async () => {
  let pressure = 0;
  const { app, metrics } = edgeApp({ keyPrefix: prefix, loadSignal: () => pressure });
  const server = request(app.callback());
  const statuses = async () => ({
    browse: (await server.get('/api/catalog/products/kettle').set('user-agent', BROWSER)).status,
    cart: (await server.post('/api/cart/cart/lines').set('user-agent', BROWSER).send({})).status,
    checkout: (await server.post('/api/checkout').set('user-agent', BROWSER).send({})).status,
  });
  assert.deepEqual(await statuses(), { browse: 200, cart: 201, checkout: 201 });
  pressure = 1.1;
  assert.deepEqual(await statuses(), { browse: 503, cart: 201, checkout: 201 });
  pressure = 1.6;
  assert.deepEqual(await statuses(), { browse: 503, cart: 503, checkout: 201 });
  pressure = 2.5;
  assert.deepEqual(await statuses(), { browse: 503, cart: 503, checkout: 503 });
  const shed = await server.get('/api/catalog/products/kettle').set('user-agent', BROWSER).expect(503);
  assert.equal(shed.headers['retry-after'], '2');
  assert.equal(shed.body.type, 'urn:problem:overloaded');
  await server.get('/healthz').expect(200);
  await server.get('/metrics').expect(200);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { route_class: 'browse', decision: 'shed' }), 4);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { route_class: 'checkout', decision: 'shed' }), 1);
});
