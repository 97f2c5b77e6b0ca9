import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { TEST_ADMIN_TOKEN, uniqueName } from '../helpers/env.js';
import { startInventory, type InventoryUnderTest } from './helpers.js';

describe('bulk stock', () => {
  let inv: InventoryUnderTest;
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  before(async () => {
    inv = await startInventory({ dbName: uniqueName(import.meta.url) });
  });
  after(() => inv.close());

  test('when many SKUs are set at once, then new ones are created with an audit entry, repeats change nothing, and changed ones are adjusted', async () => {
    const items = Array.from({ length: 120 }, (_, i) => ({ sku: `BULK-${i}`, onHand: 10 + i }));
    const first = await request(inv.app.callback()).post('/api/inventory/stock/bulk').set(auth).send({ items, reason: 'seed', actor: 'test' }).expect(200);
    assert.deepEqual(first.body, { created: 120, updated: 0, unchanged: 0 });
    const again = await request(inv.app.callback()).post('/api/inventory/stock/bulk').set(auth).send({ items: [...items.slice(0, 119), { sku: 'BULK-119', onHand: 5 }] }).expect(200);
    assert.deepEqual(again.body, { created: 0, updated: 1, unchanged: 119 });

    const stock = await request(inv.app.callback()).get('/api/inventory/stock/BULK-7').set(auth).expect(200);
    assert.deepEqual([stock.body.onHand, stock.body.initial], [17, 17]);
    const changed = await request(inv.app.callback()).get('/api/inventory/stock/BULK-119').set(auth).expect(200);
    assert.deepEqual([changed.body.onHand, changed.body.initial, changed.body.adjustments], [5, 129, -124]);
    const audit = await request(inv.app.callback()).get('/api/inventory/stock/BULK-7/adjustments').set(auth).expect(200);
    const entries = audit.body.items ?? audit.body;
    assert.equal(entries.length, 1);
    assert.deepEqual([entries[0].kind, entries[0].state, entries[0].actor, entries[0].reason, entries[0].onHandAfter], ['initial', 'applied', 'test', 'seed', 17]);
    const check = await request(inv.app.callback()).get('/api/inventory/check').set(auth).expect(200);
    assert.equal(check.body.ok, true);
  });

  test('when the batch repeats a SKU or carries an operator, then 400 names the field and nothing is written', async () => {
    const before = await inv.models.Stock.countDocuments();
    const repeated = await request(inv.app.callback()).post('/api/inventory/stock/bulk').set(auth).send({ items: [{ sku: 'DUP', onHand: 1 }, { sku: 'DUP', onHand: 2 }] }).expect(400);
    assert.equal(repeated.body.errors[0].field, 'body.items');
    await request(inv.app.callback()).post('/api/inventory/stock/bulk').set(auth).send({ items: [{ sku: { $gt: '' }, onHand: 1 }] }).expect(400);
    await request(inv.app.callback()).post('/api/inventory/stock/bulk').send({ items: [{ sku: 'NOAUTH', onHand: 1 }] }).expect(401);
    assert.equal(await inv.models.Stock.countDocuments(), before);
  });
});
