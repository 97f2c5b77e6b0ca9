/**
 * Sets stock for seeded products through the inventory admin API (via the edge
 * proxy). Deterministic: a limited-quantity SKU gets 20-100 units derived from a
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

const CONCURRENCY = 8;
const ATTEMPTS = 5;

/** Units a SKU is seeded with. */
export function seedUnits(sku: string, limitedQuantity: boolean): number {
  if (!limitedQuantity) return 10_000;
  return 20 + (createHash('sha256').update(sku).digest().readUInt32BE(0) % 81);
}

export async function seedInventory(opts: SeedInventoryOptions): Promise<void> {
  const base = opts.baseUrl.replace(/\/+$/, '');
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < opts.items.length) {
      const item = opts.items[next++];
      await setStock(base, opts.adminToken, item.sku, seedUnits(item.sku, item.limitedQuantity));
      opts.onProgress?.(++done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, opts.items.length) }, worker));
}

async function setStock(base: string, token: string, sku: string, onHand: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    let text = '';
    try {
      const response = await fetch(`${base}/api/inventory/stock/${encodeURIComponent(sku)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ onHand, reason: 'seed', actor: 'seed' }),
        signal: AbortSignal.timeout(10_000),
      });
      status = response.status;
      text = await response.text();
      if (status === 200 || status === 201) return;
    } catch (error) {
      text = (error as Error).message;
    }
    // Retry what a restart or a busy SKU explains; a 4xx other than 409 is our bug.
    const retryable = status === 0 || status === 409 || status >= 500;
    if (!retryable || attempt >= ATTEMPTS) throw new Error(`seeding stock of ${sku} failed: ${status || 'no answer'} ${text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}
