/**
 * The products a load run shops for: read from the catalog through the edge,
 * seeded first (the deterministic demo catalog and its stock, as `npm run seed`
 * does) when the catalog is empty.
 */
import { demoCategories, demoProducts } from '../demo-catalog.js';
import { seedInventory } from '../seed-inventory.js';
import type { ProductRef } from './shopper.js';

async function call(baseUrl: string, method: string, path: string, token: string, body?: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
      const text = await response.text();
      if (response.ok) return text ? JSON.parse(text) : undefined;
      if (response.status < 500 || attempt >= 5) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    } catch (error) {
      if (attempt >= 5 || (error as Error).message.includes('answered')) throw error;
    }
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
}

/** Seeds `count` demo products (upserts by SKU) and their stock. */
/** `inventoryUrl`: where inventory's admin API is (in a cluster it is not behind the Ingress); default `baseUrl`. */
export async function seedCatalog(baseUrl: string, adminToken: string, count: number, log: (line: string) => void, inventoryUrl = baseUrl): Promise<void> {
  log(`seeding ${count} demo products and their stock`);
  for (const [i, c] of demoCategories.entries()) await call(baseUrl, 'PUT', `/api/catalog/categories/${c.slug}`, adminToken, { name: c.name, sortOrder: i });
  const products = demoProducts(count);
  for (let i = 0; i < products.length; i += 500) await call(baseUrl, 'POST', '/api/catalog/products/bulk', adminToken, { products: products.slice(i, i + 500) });
  await seedInventory({ baseUrl: inventoryUrl, adminToken, items: products.map((p) => ({ sku: p.sku, limitedQuantity: p.limitedQuantity })) });
}

interface Page {
  items: Array<{ slug: string; sku: string; limitedQuantity: boolean }>;
  nextCursor: string | null;
}

/** Reads up to `max` products (seeding `seedCount` first when the catalog is empty). */
export async function loadProducts(baseUrl: string, options: { adminToken: string; seedCount: number; max?: number; log: (line: string) => void; inventoryUrl?: string }): Promise<ProductRef[]> {
  const read = async () => {
    const refs: ProductRef[] = [];
    let cursor: string | null = null;
    do {
      const page = (await call(baseUrl, 'GET', `/api/catalog/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, options.adminToken)) as Page;
      refs.push(...page.items.map((p) => ({ slug: p.slug, sku: p.sku, limited: p.limitedQuantity })));
      cursor = page.nextCursor;
    } while (cursor && refs.length < (options.max ?? 1000));
    return refs;
  };
  let refs = await read();
  if (refs.length === 0) {
    if (options.seedCount <= 0) throw new Error('the catalog is empty; run `npm run seed` or pass --seed N');
    await seedCatalog(baseUrl, options.adminToken, options.seedCount, options.log, options.inventoryUrl);
    refs = await read();
  }
  return refs;
}
