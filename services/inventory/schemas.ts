import { z } from 'zod';

/** Same shape as the catalog's SKU. */
export const sku = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dot, dash or underscore');
/** Hold ids become field names in the stock document, so no dots or dollars. */
export const holdId = z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, 'must be 8-128 letters, digits, dash or underscore');
export const owner = z.string().regex(/^[A-Za-z0-9:_-]{1,160}$/, 'must be 1-160 letters, digits, colon, dash or underscore');
const qty = z.number().int('must be a whole number').min(1).max(1_000_000);
const actor = z.string().trim().min(1).max(100).default('admin');
const reason = z.string().trim().min(1).max(500);

export const skuParams = z.object({ sku }).strict();
export const holdParams = z.object({ id: holdId }).strict();

export const reserveBody = (maxTtlS: number) =>
  z.object({ id: holdId, sku, qty, ttlS: z.number().int().min(1).max(maxTtlS).optional(), owner: owner.nullable().optional() }).strict();

export const modifyBody = (maxTtlS: number) =>
  z
    .object({ qty: qty.optional(), ttlS: z.number().int().min(1).max(maxTtlS).optional(), owner: owner.nullable().optional() })
    .strict()
    .refine((body) => Object.keys(body).length > 0, { message: 'must change qty, ttlS or owner', path: ['qty'] });

export const extendBody = (maxTtlS: number) => z.object({ ttlS: z.number().int().min(1).max(maxTtlS).optional() }).strict();

export const setStockBody = z.object({ onHand: z.number().int().min(0).max(100_000_000), reason: reason.default('set'), actor }).strict();

export const bulkStockBody = z
  .object({ items: z.array(z.object({ sku, onHand: z.number().int().min(0).max(100_000_000) }).strict()).min(1).max(1_000), reason: reason.default('bulk set'), actor })
  .strict()
  .refine((body) => new Set(body.items.map((i) => i.sku)).size === body.items.length, { message: 'must not repeat a sku', path: ['items'] });

export const adjustBody = z
  .object({ delta: z.number().int().min(-100_000_000).max(100_000_000).refine((d) => d !== 0, 'must not be 0'), reason, actor, adjustmentId: holdId.optional() })
  .strict();

export const usageQuery = z.object({ owner, sku }).strict();
export const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();
