import { z } from 'zod';
import { findByIds } from '../../kit/index.js';
import type { StockDoc } from '../models.js';
import type { StockDeps } from './stock.js';
import { sku } from '../schemas.js';

/** `?skus=A,B,C`: up to 100 SKUs, one page of a product list. */
export const availabilityQuery = z
  .object({
    skus: z
      .string()
      .transform((raw) => [...new Set(raw.split(',').filter(Boolean))])
      .pipe(z.array(sku).min(1, 'must name at least one SKU').max(100, 'at most 100 SKUs')),
  })
  .strict();

export interface Availability {
  sku: string;
  available: number;
  inStock: boolean;
}

/**
 * Available units of several SKUs in one read, for catalog pages (issue 9,
 * item 11). SKUs without stock are left out: the caller shows no availability
 * for them rather than a made-up zero. One read by `_id` per SKU: `$in` is a scan of
 * the stock collection on FerretDB (kit/guarded-write.ts, `findByIds`).
 */
export async function availabilityOf({ models }: Pick<StockDeps, 'models'>, skus: string[]): Promise<Availability[]> {
  const docs = await findByIds<StockDoc, Pick<StockDoc, '_id' | 'available'>>(models.Stock, skus, { available: 1 });
  return docs.map((doc) => ({ sku: doc._id, available: doc.available, inStock: doc.available > 0 }));
}
