import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mongoose';
import { connectMongo } from '../../services/kit/index.js';
import { createCheckoutModels, type CheckoutModels } from '../../services/checkout/models.js';
import { UNFINISHED } from '../../services/checkout/domain/recovery.js';
import { RELAY_PENDING } from '../../services/checkout/domain/outbox.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';
import { plan, usesIndex } from '../helpers/explain.js';

let connection: Connection;
let models: CheckoutModels;
before(async () => {
  connection = await connectMongo(testServers().mongoUri, { logger: testLogger(), dbName: uniqueName(import.meta.url), serverSelectionTimeoutMs: 2_000 });
  models = await createCheckoutModels(connection);
  // Many settled orders, a few in flight: a recovery pass must not read the settled ones.
  const now = new Date();
  const orders = Array.from({ length: 3_000 }, (_, i) => ({
    _id: `plan-order-${i}`, status: i % 100 ? 'shipped' : 'pending', cartCleared: i % 100 !== 0, compensated: true, createdAt: now, updatedAt: now,
  }));
  await models.Order.collection.insertMany(orders as never[], { ordered: false });
});
after(async () => {
  await connection.dropDatabase().catch(() => undefined);
  await connection.close();
});

test('when recovery looks for unfinished orders, then each of its queries is an equality pushed down to the database and served by an index', async () => {
  for (const filter of UNFINISHED) {
    const p = await plan(models.Order.find(filter).sort({ updatedAt: 1 }).limit(50));
    if (p.ferret) assert.equal(p.pushdown, true, `pushdown for ${JSON.stringify(filter)}`);
    assert.ok(usesIndex(p), `index for ${JSON.stringify(filter)}: ${p.text.slice(0, 300)}`);
  }
  assert.equal((await models.Order.find({ status: 'pending' }).lean()).length, 30);
});

test('when the outbox relay looks for paid orders not yet queued, then it asks a top-level equality, pushed down and served by an index', async () => {
  // `{ 'outbox.state': 'pending' }`, the filter before, is a dotted path: FerretDB 1.24 read every order for it.
  const p = await plan(models.Order.find(RELAY_PENDING, { _id: 1 }).limit(100));
  if (p.ferret) assert.equal(p.pushdown, true, 'pushdown');
  assert.ok(usesIndex(p), p.text.slice(0, 300));
});

test('when orders were paid before outboxPending existed, then the first start of a new version flags them once for the relay', async () => {
  const dbName = `${uniqueName(import.meta.url)}_backfill`;
  const open = () => connectMongo(testServers().mongoUri, { logger: testLogger(), dbName, serverSelectionTimeoutMs: 2_000 });
  const old = await open();
  const now = new Date();
  const order = (id: string, state: string) => ({ _id: id, status: 'paid', outbox: { state }, createdAt: now, updatedAt: now });
  await old.collection('orders').insertMany([order('old-pending', 'pending'), order('old-sent', 'sent')] as never[]);
  try {
    const started = await open();
    const models2 = await createCheckoutModels(started);
    assert.deepEqual((await models2.Order.find(RELAY_PENDING, { _id: 1 }).lean()).map((o) => o._id), ['old-pending']);
    assert.ok(await started.collection('migrations').findOne({ _id: 'orders.outboxPending' as never }));
    await started.close();
  } finally {
    await old.dropDatabase();
    await old.close();
  }
});
