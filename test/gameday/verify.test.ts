/**
 * The gameday's database checks (scripts/lib/gameday/verify.ts) on crafted data:
 * a double capture in the simulated provider's capture ledger, and an inventory
 * invariant that cannot be asked, must each fail the verdict.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../services/kit/index.js';
import { createCheckoutModels, type CheckoutModels } from '../../services/checkout/models.js';
import { createSimulatedProvider } from '../../services/checkout/domain/payments.js';
import { checkStockInvariant, duplicateCaptureOrders, verifyDatabases } from '../../scripts/lib/gameday/verify.js';
import { judge, type VerdictInput } from '../../scripts/lib/gameday/verdict.js';
import { TEST_ADMIN_TOKEN, testLogger, testServers, uniqueName } from '../helpers/env.js';

const dbName = uniqueName(import.meta.url);
let connection: Connection;
let models: CheckoutModels;
let inventory: http.Server;
let inventoryUrl: string;
const clean: VerdictInput = { acknowledged: ['o1', 'o2'], persisted: ['o1', 'o2'], duplicateCharges: 0, oversoldUnits: 0, stockInvariantOk: true, successRate: 1, recoveries: [], unrecovered: 0, requests: 100 };
const mongoUriOf = () => {
  const url = new URL(testServers().mongoUri);
  url.pathname = `/${dbName}`;
  return url.toString();
};

before(async () => {
  connection = await connectMongo(testServers().mongoUri, { logger: testLogger(), dbName, serverSelectionTimeoutMs: 2_000 });
  models = await createCheckoutModels(connection);
  // Stands in for inventory's `GET /api/inventory/check`.
  inventory = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, violations: [] })));
  await new Promise<void>((resolve) => inventory.listen(0, '127.0.0.1', resolve));
  inventoryUrl = `http://127.0.0.1:${(inventory.address() as AddressInfo).port}`;
});
after(async () => {
  inventory?.close();
  await connection?.dropDatabase().catch(() => undefined);
  await connection?.close();
});

test('duplicate captures are counted per order, the larger count of the ledgers standing', () => {
  assert.deepEqual(duplicateCaptureOrders([[{ orderId: 'a' }, { orderId: 'b' }, { orderId: 'b' }], [{ orderId: 'a' }, { orderId: 'b' }]]), ['b']);
  assert.deepEqual(duplicateCaptureOrders([[{ orderId: 'a' }], [{ orderId: 'a' }]]), [], 'one capture in each ledger is one capture');
});

test('when the provider captured an order twice, then verify counts one duplicate charge and the verdict fails; a retried charge call alone does not', async () => {
  const provider = createSimulatedProvider({ models, knobs: { latencyMs: 0, declineRate: 0, timeoutRate: 0, outage: false }, timeoutMs: 2_000 });
  // Retried charge calls of one order are deduplicated by the provider: one capture.
  for (let i = 0; i < 3; i += 1) assert.equal((await provider.charge({ orderId: 'o1', amount: 500, currency: 'EUR' })).status, 'captured');
  await provider.charge({ orderId: 'o2', amount: 700, currency: 'EUR' });
  assert.equal(await models.PaymentCapture.countDocuments({ orderId: 'o1' }), 1);

  const options = { mongoUri: mongoUriOf(), redisUrl: testServers().redisUrl, acknowledged: ['o1', 'o2'], edgeUrl: inventoryUrl, adminToken: TEST_ADMIN_TOKEN };
  const cleanRun = await verifyDatabases(options);
  assert.equal(cleanRun.duplicateCharges, 0);
  assert.equal(cleanRun.stockInvariant.ok, true);
  assert.equal(judge({ ...clean, duplicateCharges: cleanRun.duplicateCharges }).verdict, 'pass');

  // A second capture of o2, as a provider whose deduplication failed (or a retry under a new key) would record it.
  const first = (await models.PaymentCapture.findOne({ orderId: 'o2' }).lean())!;
  await models.PaymentCapture.create({ ...first, _id: 'cap_crafted_second', at: new Date() });
  const doubled = await verifyDatabases(options);
  assert.equal(doubled.duplicateCharges, 1);
  assert.deepEqual(doubled.duplicateChargeOrders, ['o2']);
  const verdict = judge({ ...clean, duplicateCharges: doubled.duplicateCharges });
  assert.equal(verdict.verdict, 'fail');
  assert.match(verdict.reasons.join(), /1 order\(s\) charged more than once/);
});

test('when GET /api/inventory/check cannot be reached, then it is tried again, reported not checked, and the verdict fails', async () => {
  let calls = 0;
  const flaky = http.createServer((_req, res) => {
    calls += 1;
    res.writeHead(503).end('{}');
  });
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  try {
    const edgeUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    const unchecked = await checkStockInvariant({ edgeUrl, adminToken: TEST_ADMIN_TOKEN, invariantAttempts: 3, invariantRetryMs: 10 });
    assert.equal(calls, 3);
    assert.equal(unchecked.ok, undefined);
    assert.match(unchecked.detail ?? '', /answered 503 \(3 attempt/);
    const verdict = judge({ ...clean, stockInvariantOk: unchecked.ok });
    assert.equal(verdict.verdict, 'fail');
    assert.match(verdict.reasons.join(), /could not be checked/);
  } finally {
    flaky.close();
  }
  // Nothing listening at all (port 9, discard).
  assert.equal((await checkStockInvariant({ edgeUrl: 'http://127.0.0.1:9', adminToken: TEST_ADMIN_TOKEN, invariantAttempts: 2, invariantRetryMs: 10 })).ok, undefined);
});
