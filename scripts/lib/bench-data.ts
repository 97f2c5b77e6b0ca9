/**
 * Benchmarks of the data path (issue 8): seeding at scale straight into the
 * databases (insertMany in batches, not HTTP), the doorbuster burst, and cold
 * catalog pages. Each returns numbers; scripts/bench.ts prints the JSON lines.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import mongoose from 'mongoose';
import { hashCartToken } from '../../services/cart/domain/tokens.js';
import { addresses, BROWSER, median } from './bench-edge.js';
import { bucketOf } from '../../services/kit/index.js';
import { HOLD_EXPIRY_BUCKET_MS, holdExpiry } from '../../services/inventory/models.js';
import { CART_EXPIRY_BUCKET_MS, cartExpiry } from '../../services/cart/models.js';

const BATCH = 5_000;

/** Inserts `count` guest carts, each with one limited line whose hold is live in inventory (holds spread over 1,000 SKUs). */
export async function seedCarts(options: { mongoUri: string; cartDb: string; inventoryDb: string; count: number; log: (line: string) => void }): Promise<void> {
  const connection = await mongoose.createConnection(options.mongoUri).asPromise();
  const client = connection.getClient();
  try {
    const carts = client.db(options.cartDb).collection('carts');
    const holds = client.db(options.inventoryDb).collection('holds');
    const stock = client.db(options.inventoryDb).collection('stock');
    const now = Date.now();
    const skus = 1_000;
    const entries: Array<Record<string, number>> = Array.from({ length: skus }, () => ({}));
    for (let start = 0; start < options.count; start += BATCH) {
      const size = Math.min(BATCH, options.count - start);
      const cartDocs: Record<string, unknown>[] = [];
      const holdDocs: Record<string, unknown>[] = [];
      for (let i = start; i < start + size; i++) {
        const id = `a-${hashCartToken(randomBytes(32).toString('base64url'))}`;
        const sku = `SEED-${i % skus}`;
        const holdId = `h_${id}_seed${i}_0`;
        const expiresAt = new Date(now + 900_000);
        entries[i % skus]![holdId] = 1;
        cartDocs.push({
          _id: id, customerId: null, state: 'open', version: 1, mergedFrom: [], createdAt: new Date(now), updatedAt: new Date(now), lastActivityAt: new Date(now), ...cartExpiry(new Date(now + 7 * 86_400_000)),
          lines: [{ id: `seed${i}`, productId: `seed-${i % skus}`, sku, name: 'Seeded item', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' }, limited: true, maxPerOrder: null, hold: { id: holdId, gen: 0, expiresAt, status: 'active' }, addedAt: new Date(now) }],
        });
        holdDocs.push({ _id: holdId, sku, qty: 1, requestedQty: 1, owner: `cart:${id}`, state: 'active', ...holdExpiry(expiresAt), createdAt: new Date(now), updatedAt: new Date(now), endedAt: null, claimedBy: null });
      }
      await Promise.all([carts.insertMany(cartDocs as never[], { ordered: false }), holds.insertMany(holdDocs as never[], { ordered: false })]);
      options.log(`  seeded ${start + size}/${options.count} carts and holds`);
    }
    const stockDocs = entries.map((holdsOfSku, i) => ({
      _id: `SEED-${i}`, initial: 1_000, adjustments: 0, available: 1_000 - Object.keys(holdsOfSku).length, reserved: Object.keys(holdsOfSku).length, sold: 0, holds: holdsOfSku, appliedAdjustments: [], createdAt: new Date(now), updatedAt: new Date(now),
    }));
    await stock.insertMany(stockDocs as never[], { ordered: false });
    // A database that has been running has its sweeps' marks (kit/time-buckets.ts); without them the
    // first pass of each sweep would run its one-time catch-up query over all 100,000 documents.
    const mark = (id: string, sizeMs: number) => ({ _id: id, next: bucketOf(now, sizeMs), updatedAt: new Date(now) });
    await client.db(options.inventoryDb).collection('sweep_marks').insertMany([mark('holds:active', HOLD_EXPIRY_BUCKET_MS), mark('holds:pending', HOLD_EXPIRY_BUCKET_MS)] as never[], { ordered: false }).catch(() => undefined);
    await client.db(options.cartDb).collection('sweep_marks').insertMany([mark('carts:open', CART_EXPIRY_BUCKET_MS)] as never[], { ordered: false }).catch(() => undefined);
  } finally {
    await connection.close();
  }
}

/** Guest carts written straight into the cart database; returns their tokens. */
export async function seedGuestCarts(mongoUri: string, cartDb: string, count: number): Promise<string[]> {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  const client = connection.getClient();
  try {
    const now = Date.now();
    const tokens = Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
    const docs = tokens.map((token) => ({
      _id: `a-${hashCartToken(token)}`, customerId: null, lines: [], state: 'open', version: 0, mergedFrom: [], createdAt: new Date(now), updatedAt: new Date(now), lastActivityAt: new Date(now), ...cartExpiry(new Date(now + 7 * 86_400_000)),
    }));
    for (let i = 0; i < docs.length; i += BATCH) await client.db(cartDb).collection('carts').insertMany(docs.slice(i, i + BATCH) as never[], { ordered: false });
    return tokens;
  } finally {
    await connection.close();
  }
}

/**
 * After a doorbuster: the units that cart lines hold (`inCarts`) and the units of the SKU's stock
 * entries that no cart line names (`orphaned`), read straight from the databases. Releases of given-up
 * holds are sent before their 503 is answered but land a moment later: read until the two agree or
 * `settleMs` passes.
 */
export async function doorbusterHolds(mongoUri: string, db: string, sku: string, settleMs = 15_000): Promise<{ inCarts: number; orphaned: number; settledMs: number }> {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  const client = connection.getClient();
  const started = Date.now();
  try {
    for (;;) {
      const carts = await client.db(db).collection('carts').find({ 'lines.sku': sku }, { projection: { lines: 1 } }).toArray();
      const named = new Set(carts.flatMap((cart) => (cart.lines as Array<{ sku: string; hold?: { id: string } | null }>).filter((line) => line.sku === sku && line.hold).map((line) => line.hold!.id)));
      const entries = ((await client.db(db).collection('stock').findOne({ _id: sku as never }))?.holds ?? {}) as Record<string, number>;
      const inCarts = Object.entries(entries).filter(([id]) => named.has(id)).reduce((sum, [, units]) => sum + units, 0);
      const orphaned = Object.entries(entries).filter(([id]) => !named.has(id)).reduce((sum, [, units]) => sum + units, 0);
      if (orphaned === 0 || Date.now() - started > settleMs) return { inCarts, orphaned, settledMs: Date.now() - started };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await connection.close();
  }
}

export interface DoorbusterResult {
  attempts: number;
  created: number;
  conflicts: number;
  other: number;
  /** Every status seen, with its count. */
  byStatus: Record<number, number>;
  attemptsPerS: number;
  p99Ms: number;
  /** The first wave (until the last 201) and the rest of the burst (docs: README, "Doorbuster"). */
  phases: { lastWinMs: number; answersOver250Ms: number; winsP50Ms: number; afterLastWinPerS: number; afterLastWinP50Ms: number };
}

/** `tokens.length` add-to-cart attempts of one product, each from its own cart, `connections` at a time. */
export async function burstAddToCart(cartUrl: string, productId: string, tokens: string[], connections: number): Promise<DoorbusterResult> {
  const body = JSON.stringify({ productId, quantity: 1 });
  let next = 0;
  const pool = addresses(tokens.length);
  const statuses: Record<number, number> = {};
  const started = Date.now();
  const trace: Array<[number, number, number]> = [];
  const run = autocannon({
    url: cartUrl,
    connections,
    amount: tokens.length,
    timeout: 30,
    // Each attempt is its own shopper: its own cart and its own address (198.18.0.0/15, RFC 2544), forwarded
    // by loopback (a trusted proxy): the guest per-client cap counts per address (docs/carts.md).
    requests: [{ method: 'POST', path: '/api/cart/cart/lines', setupRequest: (request) => {
      const n = next++;
      return { ...request, headers: { ...request.headers, 'content-type': 'application/json', 'x-cart-token': tokens[n % tokens.length]!, 'user-agent': BROWSER, 'x-forwarded-for': pool[n % pool.length]! }, body };
    } }],
  });
  // [ms since the start, status, latency ms] of every answer.
  (run as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => trace.push([Date.now() - started, statusCode, ms]));
  const result = await run;
  const seconds = (Date.now() - started) / 1_000;
  for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) statuses[Number(code)] = (count as { count: number }).count;
  const created = statuses[201] ?? 0;
  const conflicts = statuses[409] ?? 0;
  return { attempts: tokens.length, created, conflicts, other: tokens.length - created - conflicts, byStatus: statuses, attemptsPerS: Math.round(tokens.length / seconds), p99Ms: result.latency.p99, phases: phasesOf(trace, seconds * 1_000) };
}

/**
 * Where a burst's time went: the first wave (every attempt in flight while units were still being
 * handed out, until the last unit's 201) and the answers after it, which only ever get a 409.
 */
function phasesOf(trace: Array<[number, number, number]>, totalMs: number): DoorbusterResult['phases'] {
  const lastWinMs = Math.max(0, ...trace.filter(([, status]) => status === 201).map(([at]) => at));
  const after = trace.filter(([at]) => at > lastWinMs);
  const afterMs = totalMs - lastWinMs;
  return {
    lastWinMs,
    answersOver250Ms: trace.filter(([, , ms]) => ms > 250).length,
    winsP50Ms: Math.round(median(trace.filter(([, status]) => status === 201).map(([, , ms]) => ms))),
    afterLastWinPerS: afterMs > 0 ? Math.round((after.length * 1_000) / afterMs) : 0,
    afterLastWinP50Ms: Math.round(median(after.map(([, , ms]) => ms))),
  };
}

/** One GET per URL (each a cache miss on a catalog started without a cache), sequentially; latencies in ms. */
export async function timeColdPages(urls: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const url of urls) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

/**
 * Drops the databases of one bench run (`bench_<runId>` and those named after it: `_scale`,
 * `_catalog`). Runs left them behind: 80 of them filled the bench stack with 6.4 GB.
 */
export async function dropRunDatabases(mongoUri: string, prefix: string): Promise<string[]> {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  try {
    const admin = connection.getClient().db().admin();
    const names = (await admin.listDatabases({ nameOnly: true })).databases.map((db) => db.name).filter((name) => name === prefix || name.startsWith(`${prefix}_`));
    for (const name of names) await connection.getClient().db(name).dropDatabase();
    return names;
  } finally {
    await connection.close();
  }
}
