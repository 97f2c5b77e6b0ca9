/**
 * Sets stock for seeded products through the inventory admin API (via the edge
 * proxy), 500 SKUs per request. Deterministic: a limited-quantity SKU gets 20-100 units derived from a
 * hash of its SKU, any other 10 000. Setting on-hand is idempotent, so seeding
 * twice gives the same levels (units currently reserved are kept).
 */
import { createHash } from 'node:crypto';

export interface SeedInventoryOptions {
  baseUrl: string;
  adminToken: string;
  items: Array<{ sku: string; limitedQuantity: boolean }>;
  onProgress?: (done: number) => void;
}

const BATCH = 500;
const ATTEMPTS = 5;

/** Units a SKU is seeded with. */
export function seedUnits(sku: string, limitedQuantity: boolean): number {
  if (!limitedQuantity) return 10_000;
  return 20 + (createHash('sha256').update(sku).digest().readUInt32BE(0) % 81);
}

/** Sets stock in batches through `POST /api/inventory/stock/bulk`; idempotent. */
export async function seedInventory(opts: SeedInventoryOptions): Promise<void> {
  const base = opts.baseUrl.replace(/\/+$/, '');
  for (let i = 0; i < opts.items.length; i += BATCH) {
    const batch = opts.items.slice(i, i + BATCH).map((item) => ({ sku: item.sku, onHand: seedUnits(item.sku, item.limitedQuantity) }));
    await post(base, opts.adminToken, { items: batch, reason: 'seed', actor: 'seed' });
    opts.onProgress?.(i + batch.length);
  }
}

async function post(base: string, token: string, body: unknown): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let text = '';
    try {
      const response = await fetch(`${base}/api/inventory/stock/bulk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
      status = response.status;
      text = await response.text();
      if (status === 200) return;
    } catch (error) {
      text = (error as Error).message;
    }
    // Retry what a restarted replica explains (the bulk set is idempotent); a 4xx is our bug.
    const retryable = status === 0 || status >= 500;
    if (!retryable || attempt >= ATTEMPTS) throw new Error(`seeding stock failed: ${status || 'no answer'} ${text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}
