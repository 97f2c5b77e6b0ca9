import Router from '@koa/router';
import type { Middleware } from 'koa';
import { validate } from '../kit/index.js';
import type { InventoryConfig } from './config.js';
import { checkInvariant } from './domain/check.js';
import { commit, getHold, modify, release, reserve, restockCommitted, usage, type HoldDeps } from './domain/holds.js';
import { adjustStock, getStock, listAdjustments, setStock } from './domain/stock.js';
import { setStockBulk } from './domain/bulk-stock.js';
import { availabilityOf, availabilityQuery } from './domain/availability.js';
import type { InventorySweeps } from './sweepers.js';
import { adjustBody, bulkStockBody, extendBody, holdParams, listQuery, modifyBody, reserveBody, setStockBody, skuParams, usageQuery } from './schemas.js';

export interface InventoryRouteDeps extends HoldDeps {
  config: Pick<InventoryConfig, 'HOLD_DEFAULT_TTL_S' | 'HOLD_MAX_TTL_S'>;
  /** Admin only: set/adjust stock, audit, invariant check, sweeps. */
  admin: Middleware;
  /** Services (cart, checkout) and admins: holds and stock reads. */
  internal: Middleware;
  sweeps: InventorySweeps;
}

/** Routes carry their full prefix; handlers parse, call the domain, answer. */
export function createInventoryRouter(deps: InventoryRouteDeps): Router {
  const { config, admin, internal } = deps;
  const router = new Router({ prefix: '/api/inventory' });
  const maxTtl = config.HOLD_MAX_TTL_S;

  router.get('/availability/:sku', async (ctx) => {
    const { sku } = validate(skuParams, ctx.params, 'params');
    const stock = await getStock(deps, sku);
    ctx.set('cache-control', 'no-store');
    ctx.body = { sku, available: stock.available, inStock: stock.available > 0 };
  });

  // Catalog's product pages: many SKUs in one read, services only.
  router.get('/availability', internal, async (ctx) => {
    const { skus } = validate(availabilityQuery, ctx.query, 'query');
    ctx.set('cache-control', 'no-store');
    ctx.body = { items: await availabilityOf(deps, skus) };
  });

  router.get('/stock/:sku', internal, async (ctx) => {
    const { sku } = validate(skuParams, ctx.params, 'params');
    ctx.body = await getStock(deps, sku);
  });

  router.post('/stock/bulk', admin, async (ctx) => {
    const body = validate(bulkStockBody, ctx.request.body, 'body');
    ctx.body = await setStockBulk(deps, body.items, { reason: body.reason, actor: body.actor });
  });

  router.put('/stock/:sku', admin, async (ctx) => {
    const { sku } = validate(skuParams, ctx.params, 'params');
    const body = validate(setStockBody, ctx.request.body, 'body');
    const { stock, created } = await setStock(deps, sku, body.onHand, { reason: body.reason, actor: body.actor });
    ctx.status = created ? 201 : 200;
    ctx.body = stock;
  });

  router.post('/stock/:sku/adjustments', admin, async (ctx) => {
    const { sku } = validate(skuParams, ctx.params, 'params');
    const body = validate(adjustBody, ctx.request.body, 'body');
    const result = await adjustStock(deps, sku, body.delta, { reason: body.reason, actor: body.actor }, body.adjustmentId);
    ctx.status = result.replayed ? 200 : 201;
    ctx.body = { adjustment: result.adjustment, stock: result.stock };
  });

  router.get('/stock/:sku/adjustments', admin, async (ctx) => {
    const { sku } = validate(skuParams, ctx.params, 'params');
    const { limit } = validate(listQuery, ctx.query, 'query');
    ctx.body = { items: await listAdjustments(deps, sku, limit) };
  });

  router.get('/check', admin, async (ctx) => {
    const report = await checkInvariant(deps.models);
    ctx.set('cache-control', 'no-store');
    ctx.body = report;
  });

  router.post('/sweeps', admin, async (ctx) => {
    ctx.body = { holds: await deps.sweeps.sweepOnce(), reconcile: await deps.sweeps.reconcileOnce() };
  });

  router.post('/holds', internal, async (ctx) => {
    const body = validate(reserveBody(maxTtl), ctx.request.body, 'body');
    const { hold, created } = await reserve(deps, { id: body.id, sku: body.sku, qty: body.qty, ttlS: body.ttlS ?? config.HOLD_DEFAULT_TTL_S, owner: body.owner ?? null });
    ctx.status = created ? 201 : 200;
    ctx.set('location', `/api/inventory/holds/${hold.id}`);
    ctx.body = hold;
  });

  router.get('/holds/:id', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    ctx.body = await getHold(deps, id);
  });

  router.patch('/holds/:id', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    const body = validate(modifyBody(maxTtl), ctx.request.body, 'body');
    ctx.body = await modify(deps, id, body);
  });

  router.post('/holds/:id/extend', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    const body = validate(extendBody(maxTtl), ctx.request.body ?? {}, 'body');
    ctx.body = await modify(deps, id, { ttlS: body.ttlS ?? config.HOLD_DEFAULT_TTL_S });
  });

  router.post('/holds/:id/release', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    ctx.body = await release(deps, id);
  });

  router.post('/holds/:id/commit', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    ctx.body = await commit(deps, id);
  });

  // Checkout's compensation for a sold hold: only the units that hold sold, once (no admin token needed).
  router.post('/holds/:id/restock', internal, async (ctx) => {
    const { id } = validate(holdParams, ctx.params, 'params');
    const result = await restockCommitted(deps, id);
    ctx.status = result.replayed ? 200 : 201;
    ctx.body = { hold: result.hold, adjustment: result.adjustment, stock: result.stock };
  });

  router.get('/usage', internal, async (ctx) => {
    const query = validate(usageQuery, ctx.query, 'query');
    ctx.body = await usage(deps, query.owner, query.sku);
  });

  return router;
}
