import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { availabilityQuery } from './domain/availability.js';
import { adjustBody, bulkStockBody, extendBody, holdParams, listQuery, modifyBody, reserveBody, setStockBody, skuParams, usageQuery } from './schemas.js';

/** The documents show the default hold limit; the running value is HOLD_MAX_TTL_S. */
const DOC_MAX_TTL_S = 86_400;
const stockSchema = z.object({ sku: z.string(), available: z.number().int(), reserved: z.number().int(), sold: z.number().int() }).passthrough();
const holdSchema = z.object({ id: z.string(), sku: z.string(), qty: z.number().int(), status: z.string(), expiresAt: z.string().nullable().optional() }).passthrough();
const hold = { description: 'The hold', schema: holdSchema };

/** Inventory's operations: admin (stock, audit, checks) and internal (holds for cart and checkout). */
export function inventoryApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'inventory', title: 'Shop inventory', version: '1.0.0', description: 'Stock levels and holds (reservations with an expiry). Not routed to the public edge except availability.', path: '/api/inventory/openapi.json' })
    .add({ method: 'get', path: '/api/inventory/availability/:sku', summary: 'Units available now', params: skuParams, responses: { 200: { description: 'Availability', schema: z.object({ sku: z.string(), available: z.number().int(), inStock: z.boolean() }) } }, errors: [404] })
    .add({ method: 'get', path: '/api/inventory/availability', summary: 'Availability of several SKUs (for the catalog\'s product lists)', access: 'internal', query: availabilityQuery, responses: { 200: { description: 'One entry per known SKU', schema: z.object({ items: z.array(z.object({ sku: z.string(), available: z.number().int() }).passthrough()) }) } }, errors: [401] })
    .add({ method: 'get', path: '/api/inventory/stock/:sku', summary: 'Stock document of a SKU', access: 'internal', params: skuParams, responses: { 200: { description: 'Stock', schema: stockSchema } }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/inventory/stock/bulk', summary: 'Set on-hand stock of up to 1,000 SKUs', access: 'admin', body: bulkStockBody, responses: { 200: { description: 'Counts', schema: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int() }).passthrough() } }, errors: [401] })
    .add({ method: 'put', path: '/api/inventory/stock/:sku', summary: 'Set on-hand stock of a SKU (audited)', access: 'admin', params: skuParams, body: setStockBody, responses: { 200: { description: 'Updated', schema: stockSchema }, 201: { description: 'Created', schema: stockSchema } }, errors: [401, 409] })
    .add({ method: 'post', path: '/api/inventory/stock/:sku/adjustments', summary: 'Adjust stock by a delta (idempotent by adjustmentId)', access: 'admin', params: skuParams, body: adjustBody, responses: { 201: { description: 'Applied', schema: z.object({ adjustment: z.object({}).passthrough(), stock: stockSchema }) }, 200: { description: 'Replayed', schema: z.object({ adjustment: z.object({}).passthrough(), stock: stockSchema }) } }, errors: [401, 404, 409] })
    .add({ method: 'get', path: '/api/inventory/stock/:sku/adjustments', summary: 'Audit trail of a SKU', access: 'admin', params: skuParams, query: listQuery, responses: { 200: { description: 'Adjustments, newest first', schema: z.object({ items: z.array(z.object({}).passthrough()) }) } }, errors: [401] })
    .add({ method: 'get', path: '/api/inventory/check', summary: 'Stock invariant check over every SKU', access: 'admin', responses: { 200: { description: 'Report', schema: z.object({ ok: z.boolean() }).passthrough() } }, errors: [401] })
    .add({ method: 'post', path: '/api/inventory/sweeps', summary: 'Run the hold-expiry sweep and the reconcile pass once', access: 'admin', responses: { 200: { description: 'What was done', schema: z.object({ holds: z.unknown(), reconcile: z.unknown() }) } }, errors: [401] })
    .add({ method: 'post', path: '/api/inventory/holds', summary: 'Reserve (idempotent by hold id)', access: 'internal', body: reserveBody(DOC_MAX_TTL_S), responses: { 201: hold, 200: { description: 'The same hold (retry)', schema: holdSchema } }, errors: [401, 409, 503] })
    .add({ method: 'get', path: '/api/inventory/holds/:id', summary: 'A hold', access: 'internal', params: holdParams, responses: { 200: hold }, errors: [401, 404] })
    .add({ method: 'patch', path: '/api/inventory/holds/:id', summary: 'Resize, extend or re-own a hold', access: 'internal', params: holdParams, body: modifyBody(DOC_MAX_TTL_S), responses: { 200: hold }, errors: [401, 404, 409] })
    .add({ method: 'post', path: '/api/inventory/holds/:id/extend', summary: 'Extend a hold', access: 'internal', params: holdParams, body: extendBody(DOC_MAX_TTL_S), responses: { 200: hold }, errors: [401, 404, 409] })
    .add({ method: 'post', path: '/api/inventory/holds/:id/release', summary: 'Release a hold (units back to the pool, once)', access: 'internal', params: holdParams, responses: { 200: hold }, errors: [401, 404, 409] })
    .add({ method: 'post', path: '/api/inventory/holds/:id/commit', summary: 'Commit a hold (units sold, once)', access: 'internal', params: holdParams, responses: { 200: hold }, errors: [401, 404, 409] })
    .add({ method: 'post', path: '/api/inventory/holds/:id/restock', summary: 'Put the units a committed hold sold back on the shelf (once per hold; an order that did not sell)', access: 'internal', params: holdParams, responses: { 201: { description: 'Restocked', schema: z.object({ hold: holdSchema, adjustment: z.object({}).passthrough(), stock: stockSchema }) }, 200: { description: 'Already restocked (replay)', schema: z.object({ hold: holdSchema, adjustment: z.object({}).passthrough(), stock: stockSchema }) } }, errors: [401, 404, 409] })
    .add({ method: 'get', path: '/api/inventory/usage', summary: 'Units an owner holds or bought of a SKU', access: 'internal', query: usageQuery, responses: { 200: { description: 'Usage', schema: z.object({}).passthrough() } }, errors: [401] });
}
