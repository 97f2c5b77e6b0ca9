/**
 * `npm run seed`: loads the deterministic demo catalog (10,000 products, 8
 * categories, ~5% limited-quantity) through the admin API of a running
 * platform (`npm start`), then its stock if the inventory service is there.
 * Idempotent: products are upserted by SKU.
 */
import { SingleBar, Presets } from 'cli-progress';
import { demoCategories, demoProducts } from './lib/demo-catalog.js';
import { localAdminToken } from './lib/admin-token.js';

// The edge of `npm start` on this machine: 8080, shifted like every port by STACK_PORT_OFFSET.
const baseUrl = process.env.EDGE_URL ?? `http://127.0.0.1:${8080 + Number(process.env.STACK_PORT_OFFSET ?? 0)}`;
const count = Number(process.env.SEED_PRODUCTS ?? 10_000);
const batchSize = 500;
const token = localAdminToken();
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

/** Answers worth another try: the platform is busy or a replica is restarting (every call here is an idempotent upsert). */
const RETRY_STATUS = new Set([429, 502, 503, 504]);
const ATTEMPTS = 5;

async function call(method: string, path: string, body: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt += 1) {
    let failure: string;
    try {
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
      const text = await response.text();
      if (response.ok) return text ? JSON.parse(text) : undefined;
      failure = `${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`;
      if (!RETRY_STATUS.has(response.status)) throw new Error(failure);
    } catch (error) {
      if (!(error instanceof TypeError) && !(error instanceof DOMException)) throw error;
      failure = `${method} ${path} failed: ${(error as Error).message}`;
    }
    if (attempt === ATTEMPTS) throw new Error(`${failure} (after ${ATTEMPTS} attempts)`);
    const waitS = 2 ** (attempt - 1);
    console.log(`\n${failure.slice(0, 200)}; trying again in ${waitS} s (attempt ${attempt + 1} of ${ATTEMPTS})`);
    await new Promise((resolve) => setTimeout(resolve, waitS * 1_000));
  }
}

async function main(): Promise<void> {
  try {
    await fetch(`${baseUrl}/edge/status`, { signal: AbortSignal.timeout(2_000) });
  } catch {
    throw new Error(`nothing answers at ${baseUrl}: start the platform first with \`npm start\` (or set EDGE_URL)`);
  }
  const started = Date.now();
  for (const [i, c] of demoCategories.entries()) await call('PUT', `/api/catalog/categories/${c.slug}`, { name: c.name, sortOrder: i });
  const products = demoProducts(count);
  const bar = new SingleBar({ format: 'products  [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left' }, Presets.shades_classic);
  bar.start(products.length, 0);
  let inserted = 0;
  let updated = 0;
  let unchanged = 0;
  for (let i = 0; i < products.length; i += batchSize) {
    const batch = products.slice(i, i + batchSize);
    const result = (await call('POST', '/api/catalog/products/bulk', { products: batch })) as { inserted: number; updated: number; unchanged: number };
    inserted += result.inserted;
    updated += result.updated;
    unchanged += result.unchanged;
    bar.update(i + batch.length);
  }
  bar.stop();
  let stock = 'skipped (no inventory service)';
  try {
    const { seedInventory } = await import('./lib/seed-inventory.js');
    const stockBar = new SingleBar({ format: 'stock     [{bar}] {percentage}% | {value}/{total}' }, Presets.shades_classic);
    stockBar.start(products.length, 0);
    await seedInventory({ baseUrl, adminToken: token, items: products.map((p) => ({ sku: p.sku, limitedQuantity: p.limitedQuantity })), onProgress: (done) => stockBar.update(done) });
    stockBar.stop();
    stock = `${products.length} SKUs stocked`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
  }
  const limited = products.filter((p) => p.limitedQuantity).length;
  console.log(`\nseeded ${products.length} products (${inserted} new, ${updated} changed, ${unchanged} unchanged; ${limited} limited-quantity) in ${demoCategories.length} categories; stock: ${stock}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`browse: curl '${baseUrl}/api/catalog/products?category=electronics&sort=price&limit=5'`);
}

main().catch((error: Error) => {
  console.error(`seed failed: ${error.message}`);
  process.exit(1);
});
