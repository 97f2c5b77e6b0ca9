/**
 * `npm run bench`: what the platform costs per request, measured against a
 * baseline in the same run (never absolute numbers in tests).
 *
 * 1. catalog: GET /api/catalog/products/:id with a warm cache, vs a bare Koa
 *    route returning the same JSON body; one process each, same load generator,
 *    alternating rounds; medians of BENCH_ROUNDS rounds; ratio = rps / baseline rps.
 * 2. add-to-cart: POST a line to a fresh cart (cart -> catalog, inventory), at 8
 *    and at 32 connections.
 * 3. add-to-cart at scale: an empty database vs one with BENCH_SCALE_CARTS
 *    (100,000) carts and their holds, seeded with insertMany; alternating rounds, which database
 *    goes first alternating too (use an even BENCH_ROUNDS to balance the order).
 * 4. doorbuster: BENCH_DOOR_ATTEMPTS (5,000) adds of a limited SKU with 50 units, each from its own cart.
 * 5. cold catalog pages: 10,000 products, a catalog without a cache; first page,
 *    a cursor page, category + sort, `q` search.
 * 6. checkout: POST /api/checkout of a 3-line cart (fresh cart and Idempotency-Key each
 *    time) at 8 connections, then the fulfillment worker's jobs/s on those orders.
 * `--quick` (or BENCH_QUICK=1): 1 round of 4 s, 20,000 carts, 1,000 attempts: a few minutes in all.
 * Prints one JSON line per benchmark and writes reports/bench.json. The run's databases are
 * dropped at the end (BENCH_KEEP_DATA=1 keeps them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { ensurePostgres, ensureStack } from './lib/stack.js';
import { dataDir, repoRoot } from './lib/paths.js';
import { cpuSeconds, isPortOpen, waitForPort } from './lib/procs.js';
import { benchAddToCart } from './lib/bench-cart.js';
import { benchEdge, median } from './lib/bench-edge.js';
import { benchCheckout, benchWorker } from './lib/bench-checkout.js';
import { burstAddToCart, doorbusterHolds, dropRunDatabases, seedCarts, seedGuestCarts, timeColdPages } from './lib/bench-data.js';
import { demoProducts } from './lib/demo-catalog.js';
import { formatSummary, summarizeProfileFile } from './lib/cpu-profile.js';

const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const durationS = Number(process.env.BENCH_DURATION_S ?? (quick ? 4 : 8));
const scaleCarts = Number(process.env.BENCH_SCALE_CARTS ?? (quick ? 20_000 : 100_000));
const doorAttempts = Number(process.env.BENCH_DOOR_ATTEMPTS ?? (quick ? 1_000 : 5_000));
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** `catalog`, `cart`, `doorbuster`, `edge` or `checkout` to run one benchmark only. */
const only = process.env.BENCH_ONLY;
const adminToken = 'bench-admin-token-0123456789';
/** Service ports of this run, shifted with STACK_PORT_OFFSET like the stack's so checkouts can bench side by side. */
const port = (n: number) => 9510 + Number(process.env.STACK_PORT_OFFSET ?? 0) * 10 + n;
const logDir = path.join(dataDir, 'bench');
fs.mkdirSync(logDir, { recursive: true });
const children: ChildProcess[] = [];

interface Sample {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Server CPU time per request (user + system), from /proc: steadier than rps on a shared machine. */
  cpuUsPerRequest?: number;
}

/** BENCH_CPU_PROFILE=1: every server process writes a V8 CPU profile here when it stops; summaries are printed at the end. */
const profileDir = process.env.BENCH_CPU_PROFILE === '1' ? path.join(repoRoot, 'reports', 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;

const logName = (name: string, env: NodeJS.ProcessEnv) => (env.PORT ? `${name}-${env.PORT}.log` : `${name}.log`);

function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // One log per process: several catalogs (or carts) run side by side.
  const out = fs.openSync(path.join(logDir, logName(name, env)), 'w');
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${env.PORT ?? 'x'}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profiling, '--import', 'tsx', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.push(child);
  return child;
}

async function startService(service: string, port: number, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  // A port still held by an earlier part of this run would make the wait below succeed for the wrong process.
  if (await isPortOpen(port)) throw new Error(`port ${port} is already in use; cannot start ${service} there`);
  const child = startProcess(service, ['services/main.ts'], { ...env, SERVICE: service, PORT: String(port), HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0' });
  await waitForPort(port, service, path.join(logDir, logName(service, { PORT: String(port) })), 60_000, child);
  return { url: `http://127.0.0.1:${port}`, child };
}

async function load(url: string, server: ChildProcess): Promise<Sample> {
  const cpuBefore = cpuSeconds(server.pid);
  const result = await autocannon({ url, connections, duration: durationS });
  const cpuAfter = cpuSeconds(server.pid);
  const errors = result.errors + result.timeouts + result.non2xx;
  const cpuUsPerRequest = cpuBefore === undefined || cpuAfter === undefined ? undefined : Math.round(((cpuAfter - cpuBefore) * 1e6) / result.requests.total);
  return { rps: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors, cpuUsPerRequest };
}

const summarize = (samples: Sample[]): Sample => ({
  rps: Math.round(median(samples.map((s) => s.rps))),
  p50Ms: median(samples.map((s) => s.p50Ms)),
  p99Ms: median(samples.map((s) => s.p99Ms)),
  errors: samples.reduce((sum, s) => sum + s.errors, 0),
  ...(samples.every((s) => s.cpuUsPerRequest !== undefined) ? { cpuUsPerRequest: median(samples.map((s) => s.cpuUsPerRequest ?? 0)) } : {}),
});

/** Ms from `since` until the catalog at `url` reports `products` in its list index, and where it loaded them from. */
async function waitForIndex(url: string, products: number, since: number): Promise<{ ms: number; source: string }> {
  for (let i = 0; i < 1_200; i += 1) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const held = Number(/^catalog_index_products\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    if (held >= products) return { ms: Date.now() - since, source: /^catalog_index_loads_total\{[^}]*reason="([a-z_]+)"[^}]*\} [1-9]/m.exec(text)?.[1] ?? 'unknown' };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the catalog at ${url} did not load ${products} products into its index within 60 s`);
}

/** VACUUM (ANALYZE) of the tables of one FerretDB database (a PostgreSQL schema of the same name) on the bench stack's PostgreSQL. */
function vacuumAnalyze(url: string, database: string): { ok: true; seconds: number } | { ok: false; error: string } {
  const started = Date.now();
  const psql = (sql: string) => spawnSync(path.join(ensurePostgres(() => undefined), 'psql'), [url, '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], { encoding: 'utf8' });
  const listed = psql(`SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = '${database.replace(/'/g, "''")}'`);
  const tables = listed.status === 0 ? listed.stdout.split('\n').filter(Boolean) : [];
  const result = tables.length > 0 ? psql(`VACUUM (ANALYZE) ${tables.join(', ')}`) : listed;
  if (result.status !== 0) return { ok: false, error: (result.stderr || String(result.error)).trim() };
  return { ok: true, seconds: Math.round((Date.now() - started) / 1_000) };
}

async function post(url: string, body: unknown, method = 'POST'): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Checkout of a 3-line cart, then the worker's rate on the orders it made (6.). */
async function checkoutBench(env: Record<string, string>, catalog: string, inventory: string, cart: string, runId: string): Promise<Record<string, unknown>[]> {
  const prefix = `bench_${runId}`;
  // Edge rules off for these two (as in the service tests): the load comes from one address.
  const serviceEnv = { ...env, QUEUE_PREFIX: prefix, EDGE_EXEMPT_CIDRS: '127.0.0.0/8' };
  const { url: checkout } = await startService('checkout', port(7), { ...serviceEnv, CART_URL: cart, INVENTORY_URL: inventory });
  const products = [];
  for (let i = 0; i < 3; i += 1) products.push(String((await post(`${catalog}/api/catalog/products`, { sku: `CO-${runId}-${i}`, slug: `co-${runId}-${i}`, name: `Checkout item ${i}`, price: { amount: 1000 + i, currency: 'EUR' }, maxPerOrder: 1000 })).id));
  const checkoutConnections = 8;
  const samples: Sample[] = [];
  let requests = 0;
  for (let round = 1; round <= rounds; round += 1) {
    const r = await benchCheckout({ cartUrl: cart, checkoutUrl: checkout, productIds: products, durationS, connections: checkoutConnections, carts: durationS * 150 });
    samples.push({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors });
    requests += r.requests - r.errors;
    console.log(`round ${round}/${rounds}: checkout ${r.rps} rps p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms (${r.errors} errors of ${r.requests})`);
  }
  const c = summarize(samples);
  // The worker starts once every order is paid and in the outbox: its rate is not mixed with checkout's load. Bull's limiter is lifted (its default 50/s would be the figure).
  await startService('fulfillment', port(8), { ...serviceEnv, CHECKOUT_URL: checkout, FULFILLMENT_RATE_MAX: '100000' });
  const worker = await benchWorker({ redisUrl: env.REDIS_URL ?? '', prefix, expected: requests, timeoutS: 120 });
  console.log(`fulfillment worker: ${worker.jobs} jobs in ${worker.seconds} s (${worker.failed} failed)`);
  return [
    { bench: 'checkout.complete', cartLines: 3, connections: checkoutConnections, rps: c.rps, p50Ms: c.p50Ms, p99Ms: c.p99Ms, errors: c.errors, durationS, rounds },
    { bench: 'fulfillment.worker', jobs: worker.jobs, failed: worker.failed, jobsPerS: worker.jobsPerS, seconds: worker.seconds, concurrency: 4, rateLimit: 'off' },
  ];
}

async function main(): Promise<void> {
  console.log(`bench: ${rounds} rounds x ${durationS} s per target, ${connections} connections (BENCH_ROUNDS, BENCH_DURATION_S, BENCH_CONNECTIONS)`);
  const stack = await ensureStack({ profile: 'bench' });
  const runId = Date.now().toString(36);
  const env = { MONGODB_URI: stack.mongoUri.replace(/\/[^/]*$/, `/bench_${runId}`), REDIS_URL: stack.redisUrl, ADMIN_TOKEN: adminToken, INTERNAL_TOKEN: `${adminToken}-internal`, INVENTORY_TOKEN: `${adminToken}-internal`, CUSTOMER_TOKEN_SECRET: `${adminToken}-customer`, LOG_LEVEL: 'info' };
  try {
    const { url: catalog, child: catalogProcess } = await startService('catalog', port(0), env);
    const product = await post(`${catalog}/api/catalog/products`, {
      sku: `BENCH-${runId}`, slug: `bench-${runId}`, name: 'Benchmark Kettle', description: 'A kettle that is read many times.',
      price: { amount: 4999, currency: 'EUR' }, categories: ['kitchen'], attributes: { color: 'steel', brand: 'Acme' },
      images: [{ url: 'https://images.example.com/bench.jpg', alt: 'kettle' }], maxPerOrder: 10,
    });
    const productUrl = `${catalog}/api/catalog/products/${String(product.id)}`;
    const edge = () => benchEdge({ startService, env, productPath: `/api/catalog/products/${String(product.id)}`, basePort: 9520 + Number(process.env.STACK_PORT_OFFSET ?? 0), rounds, durationS, connections });
    if (only === 'edge') {
      for (const line of await edge()) console.log(JSON.stringify(line));
      return;
    }
    if (only === 'checkout') {
      const { url: inventory } = await startService('inventory', port(2), env);
      const { url: cart } = await startService('cart', port(3), { ...env, CATALOG_URL: catalog, INVENTORY_URL: inventory });
      for (const line of await checkoutBench(env, catalog, inventory, cart, runId)) console.log(JSON.stringify(line));
      return;
    }
    const bodyText = await (await fetch(productUrl)).text();
    const bodyFile = path.join(logDir, 'body.json');
    fs.writeFileSync(bodyFile, bodyText);
    // As for the services: a baseline left running by an interrupted run would answer instead of this one.
    if (await isPortOpen(port(1))) throw new Error(`port ${port(1)} is already in use; cannot start the bare Koa baseline there`);
    const bare = startProcess('bare-koa', ['scripts/lib/bare-koa.ts'], { PORT: String(port(1)), BENCH_BODY_FILE: bodyFile });
    await waitForPort(port(1), 'bare Koa baseline', path.join(logDir, logName('bare-koa', { PORT: String(port(1)) })), 30_000, bare);
    const bareUrl = `http://127.0.0.1:${port(1)}/api/catalog/products/x`;
    await autocannon({ url: productUrl, connections, amount: 2_000 });
    await autocannon({ url: bareUrl, connections, amount: 2_000 });

    const samples = { catalog: [] as Sample[], bare: [] as Sample[] };
    for (let round = 1; round <= (only === 'cart' || only === 'doorbuster' ? 0 : rounds); round += 1) {
      samples.bare.push(await load(bareUrl, bare));
      samples.catalog.push(await load(productUrl, catalogProcess));
      const [b, c] = [samples.bare.at(-1)!, samples.catalog.at(-1)!];
      console.log(`round ${round}/${rounds}: bare koa ${Math.round(b.rps)} rps p99 ${b.p99Ms} ms ${b.cpuUsPerRequest} us cpu/req | catalog ${Math.round(c.rps)} rps p99 ${c.p99Ms} ms ${c.cpuUsPerRequest} us cpu/req`);
    }
    const catalogResult = summarize(samples.catalog);
    const bareResult = summarize(samples.bare);
    const catalogLine = { bench: 'catalog.getProduct.warm', bodyBytes: Buffer.byteLength(bodyText), connections, durationS, rounds, catalog: catalogResult, bareKoa: bareResult, ratio: Number((catalogResult.rps / bareResult.rps).toFixed(3)), target: 0.85,
      ...(catalogResult.cpuUsPerRequest && bareResult.cpuUsPerRequest ? { cpuRatio: Number((bareResult.cpuUsPerRequest / catalogResult.cpuUsPerRequest).toFixed(3)) } : {}) };

    const { url: inventory } = await startService('inventory', port(2), env);
    const { url: cart } = await startService('cart', port(3), { ...env, CATALOG_URL: catalog, INVENTORY_URL: inventory });
    const cartProduct = await post(`${catalog}/api/catalog/products`, { sku: `CART-${runId}`, slug: `cart-${runId}`, name: 'Benchmark Mug', price: { amount: 999, currency: 'EUR' }, maxPerOrder: 1000 });
    const cartSamples: Sample[] = [];
    const cart32: Sample[] = [];
    for (let round = 1; round <= (only === 'catalog' || only === 'doorbuster' ? 0 : rounds); round += 1) {
      const r = await benchAddToCart({ baseUrl: cart, productId: String(cartProduct.id), durationS, connections: 8 });
      cartSamples.push({ rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors });
      const r32 = await benchAddToCart({ baseUrl: cart, productId: String(cartProduct.id), durationS, connections: 32 });
      cart32.push({ rps: r32.rps, p50Ms: r32.p50Ms, p99Ms: r32.p99Ms, errors: r32.errors });
      console.log(`round ${round}/${rounds}: add-to-cart ${Math.round(r.rps)} rps p99 ${r.p99Ms} ms at 8 connections (${r.errors} errors), ${r32.rps} rps p99 ${r32.p99Ms} ms at 32 (${r32.errors} errors)`);
    }
    const cartLine = { bench: 'cart.addLine.freshCart', connections: 8, durationS, rounds, cart: summarize(cartSamples), catalogGetProductRps: catalogResult.rps };
    const add32 = summarize(cart32);
    const addLine = { bench: 'cart.addLine', connections: 32, rps: add32.rps, p50Ms: add32.p50Ms, p99Ms: add32.p99Ms, errors: add32.errors, durationS, rounds };
    const lines: Record<string, unknown>[] = [catalogLine, cartLine, addLine];

    if (only !== 'catalog' && only !== 'doorbuster') {
      // 3. The same add on a database that already holds `scaleCarts` carts and their holds.
      const scaleDb = `bench_${runId}_scale`;
      const scaleEnv = { ...env, MONGODB_URI: env.MONGODB_URI.replace(/\/[^/]*$/, `/${scaleDb}`) };
      console.log(`seeding ${scaleCarts} carts and holds into ${scaleDb} (insertMany, ${Math.ceil(scaleCarts / 5_000)} batches)`);
      const seedStarted = Date.now();
      await seedCarts({ mongoUri: scaleEnv.MONGODB_URI, cartDb: scaleDb, inventoryDb: scaleDb, count: scaleCarts, log: console.log });
      console.log(`seeded in ${Math.round((Date.now() - seedStarted) / 1_000)} s`);
      // A database that has been running has been vacuumed since its carts were written. Without this,
      // PostgreSQL's autovacuum of the 200,000 new rows ran during a measured round (40-67 % of a core for
      // 20 s; that round fell to 100 rps) and the ratio measured the bulk insert, not the data size.
      if (stack.postgresUrl) {
        const vacuumed = vacuumAnalyze(stack.postgresUrl, scaleDb);
        console.log(vacuumed.ok ? `VACUUM ANALYZE after seeding: ${vacuumed.seconds} s` : `VACUUM ANALYZE after seeding failed (measuring anyway): ${vacuumed.error}`);
      }
      const { url: inventoryScaled } = await startService('inventory', port(4), scaleEnv);
      const { url: cartScaled } = await startService('cart', port(5), { ...scaleEnv, CATALOG_URL: catalog, INVENTORY_URL: inventoryScaled });
      const empty: Sample[] = [];
      const scaled: Sample[] = [];
      for (let round = 1; round <= rounds; round += 1) {
        // Which database goes first alternates: the second run of a round was slower whatever its data
        // (BENCH_SCALE_CARTS=0 gave 0.67, 331/222, 223/140, 330/300 rps), most likely PostgreSQL's
        // upkeep (autovacuum, GIN pending lists) after the first run's writes.
        const run = (url: string) => benchAddToCart({ baseUrl: url, productId: String(cartProduct.id), durationS, connections: 32 });
        let e: Awaited<ReturnType<typeof run>>;
        let f: Awaited<ReturnType<typeof run>>;
        if (round % 2 === 1) {
          e = await run(cart);
          f = await run(cartScaled);
        } else {
          f = await run(cartScaled);
          e = await run(cart);
        }
        empty.push({ rps: e.rps, p50Ms: e.p50Ms, p99Ms: e.p99Ms, errors: e.errors });
        scaled.push({ rps: f.rps, p50Ms: f.p50Ms, p99Ms: f.p99Ms, errors: f.errors });
        console.log(`round ${round}/${rounds}: add-to-cart empty ${e.rps} rps | with ${scaleCarts} carts ${f.rps} rps (${round % 2 === 1 ? 'empty' : 'scaled'} first)`);
      }
      const [emptyRps, fullRps] = [summarize(empty).rps, summarize(scaled).rps];
      lines.push({ bench: 'cart.addLine.scale', carts: scaleCarts, connections: 32, emptyRps, at100kCartsRps: fullRps, ratio: Number((fullRps / Math.max(1, emptyRps)).toFixed(3)), target: 0.9 });
    }

    if (only !== 'catalog') {

      // 4. Doorbuster: 50 units, every attempt from its own cart, 64 at a time.
      const doorSku = `DOOR-${runId}`;
      const door = await post(`${catalog}/api/catalog/products`, { sku: doorSku, slug: `door-${runId}`, name: 'Doorbuster TV', price: { amount: 19900, currency: 'EUR' }, limitedQuantity: true, maxPerOrder: 1 });
      await post(`${inventory}/api/inventory/stock/${doorSku}`, { onHand: 50, reason: 'bench' }, 'PUT');
      const tokens = await seedGuestCarts(env.MONGODB_URI, `bench_${runId}`, doorAttempts);
      const burst = await burstAddToCart(cart, String(door.id), tokens, 64);
      const held = Number(((await (await fetch(`${inventory}/api/inventory/stock/${doorSku}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { reserved: number }).reserved);
      // Cart and inventory share the run's database here: which held units do cart lines name?
      const agreement = await doorbusterHolds(env.MONGODB_URI, `bench_${runId}`, doorSku);
      console.log(`doorbuster phases: last unit added after ${burst.phases.lastWinMs} ms (winners' p50 ${burst.phases.winsP50Ms} ms), ${burst.phases.answersOver250Ms} answers over 250 ms; after it ${burst.phases.afterLastWinPerS} answers/s, p50 ${burst.phases.afterLastWinP50Ms} ms`);
      console.log(`doorbuster: ${burst.created} added, ${burst.conflicts} x 409, ${burst.other} other answers; ${held} units held, ${agreement.inCarts} in carts, ${agreement.orphaned} orphaned (after ${agreement.settledMs} ms)`);
      lines.push({ bench: 'inventory.doorbuster', units: 50, attempts: doorAttempts, held, inCarts: agreement.inCarts, orphaned: agreement.orphaned, added: burst.created, conflicts: burst.conflicts, otherAnswers: burst.other, byStatus: burst.byStatus, attemptsPerS: burst.attemptsPerS, p99Ms: burst.p99Ms, phases: burst.phases });
    }

    if (only !== 'cart' && only !== 'doorbuster') {
      // 5. Cold catalog pages: a catalog process with its response cache off, on 10,000 products,
      //    answering from its in-memory list index; then a second process started on the same
      //    10,000 (how long its index takes to load), and one round on the database path
      //    (CATALOG_INDEX=off) as the baseline.
      const coldEnv = { ...env, MONGODB_URI: env.MONGODB_URI.replace(/\/[^/]*$/, `/bench_${runId}_catalog`), CATALOG_CACHE_FRESH_MS: '0', CATALOG_CACHE_REVALIDATE_MS: '0', CATALOG_CACHE_STALE_IF_ERROR_MS: '0', BODY_LIMIT: '5mb' };
      const { url: cold } = await startService('catalog', port(6), coldEnv);
      const products = demoProducts(10_000);
      for (let i = 0; i < products.length; i += 1_000) await post(`${cold}/api/catalog/products/bulk`, { products: products.slice(i, i + 1_000) });
      const pagesOf = async (base: string) => {
        const response = await fetch(`${base}/api/catalog/products`);
        if (response.status !== 200) throw new Error(`GET ${base}/api/catalog/products: ${response.status} ${await response.text()}`);
        const first = (await response.json()) as { nextCursor: string | null };
        return [
          `${base}/api/catalog/products`,
          `${base}/api/catalog/products?cursor=${encodeURIComponent(first.nextCursor ?? '')}`,
          `${base}/api/catalog/products?category=electronics&sort=price`,
          `${base}/api/catalog/products?q=kettle`,
        ];
      };
      const pages = await pagesOf(cold);
      const times = await timeColdPages(Array.from({ length: quick ? 5 : 10 }, () => pages).flat());
      const sorted = [...times].sort((a, b) => a - b);
      const pct = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
      const perPage = Object.fromEntries(['first', 'cursor', 'categorySort', 'search'].map((name, k) => [name, Math.round(median(times.filter((_, i) => i % pages.length === k)))]));

      const loadStarted = Date.now();
      // Ports 12 and 13: 7 and 8 are checkout's and fulfillment's, 10 and 11 the edge bench's.
      const second = await startService('catalog', port(12), coldEnv);
      // The writes since the first catalog's start make the Redis snapshot outdated: this replica reads the database.
      const { ms: indexLoadMs, source: indexLoadSource } = await waitForIndex(second.url, products.length, loadStarted);
      // The database path takes seconds per page here: a longer request deadline, so it is measured rather than cut off.
      const fromDb = await startService('catalog', port(13), { ...coldEnv, CATALOG_INDEX: 'off', REQUEST_TIMEOUT_MS: '60000' });
      const dbTimes = await timeColdPages(await pagesOf(fromDb.url));
      // Done with them: their CPU and memory go back to the parts that follow.
      for (const { child } of [second, fromDb]) child.kill('SIGTERM');
      console.log(`catalog.list.cold: p50 ${pct(0.5)} ms from the index, ${Math.round(median(dbTimes))} ms from the database; a new replica loaded 10,000 products in ${indexLoadMs} ms`);
      lines.push({ bench: 'catalog.list.cold', products: products.length, requests: times.length, p50Ms: pct(0.5), p99Ms: pct(0.99), medianMsByPage: perPage, target: 100, source: 'index', indexLoadMs, indexLoadSource, databaseP50Ms: Math.round(median(dbTimes)) });
    }

    if (!only) lines.push(...(await checkoutBench(env, catalog, inventory, cart, runId)));
    if (!only) lines.push(...(await edge()));
    for (const line of lines) console.log(JSON.stringify(line));
    fs.mkdirSync(path.join(repoRoot, 'reports'), { recursive: true });
    fs.writeFileSync(path.join(repoRoot, 'reports', 'bench.json'), `${JSON.stringify(lines, null, 2)}\n`);
    console.log(`\ncatalog GET product: ${catalogResult.rps} rps (p50 ${catalogResult.p50Ms} ms, p99 ${catalogResult.p99Ms} ms) vs bare Koa ${bareResult.rps} rps: ratio ${catalogLine.ratio} (target >= 0.85) ${catalogLine.ratio >= 0.85 ? 'MET' : 'NOT MET'}`);
    console.log(`add to cart:         ${cartLine.cart.rps} rps (p50 ${cartLine.cart.p50Ms} ms, p99 ${cartLine.cart.p99Ms} ms); written to reports/bench.json`);
  } finally {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))));
    // BENCH_KEEP_DATA=1 keeps the run's databases for a look afterwards.
    if (process.env.BENCH_KEEP_DATA !== '1') {
      await dropRunDatabases(stack.mongoUri, `bench_${runId}`).then((dropped) => console.log(`dropped this run's databases: ${dropped.join(', ') || 'none'}`), (error: unknown) => console.log(`dropping this run's databases failed: ${String(error)}`));
    }
    await stack.stop();
    if (profileDir && fs.existsSync(profileDir)) {
      for (const file of fs.readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile')).sort()) {
        console.log(`\n${formatSummary(file, summarizeProfileFile(path.join(profileDir, file), 12))}`);
      }
      console.log(`\nCPU profiles in ${path.relative(repoRoot, profileDir)} (open them in Chrome DevTools, Performance tab)`);
    }
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
});
