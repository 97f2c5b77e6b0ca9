/**
 * The storefront page in a real browser (Debian's Chromium driven by
 * playwright-core): a shopper searches, opens a product, adds it to the cart,
 * checks out with the page's Idempotency-Key and retries, and watches the order
 * move to `shipped`. Everything goes through the local edge to the real
 * platform (own PostgreSQL, FerretDB and Redis on ports STACK_PORT_OFFSET + 6,
 * one replica per service, the fulfillment worker). A screenshot of the
 * shipped order is saved under reports/storefront/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ensureChromium, CHROMIUM_ARGS } from '../../scripts/lib/browser.js';
import { startPlatform, type Platform } from '../../scripts/lib/platform.js';
import { localAdminToken } from '../../scripts/lib/admin-token.js';
import { loadProducts } from '../../scripts/lib/load/catalog.js';
import { dataDir, repoRoot } from '../../scripts/lib/paths.js';

const logLines: string[] = [];
const log = (line: string) => logLines.push(line);
let platform: Platform;
let browser: Browser;

before(async () => {
  const executablePath = ensureChromium((line) => console.log(line));
  platform = await startPlatform({
    replicas: 1,
    portOffset: Number(process.env.STACK_PORT_OFFSET ?? 0) + 6,
    dataTier: 'own',
    ownDir: 'browser',
    dbName: `browser_${Date.now().toString(36)}`,
    stateDir: path.join(dataDir, 'browser', 'state'),
    env: { NODE_ENV: 'development', LOG_LEVEL: 'warn' },
    log,
  });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  await platform?.stop();
});

test('a shopper in Chromium goes from search to a shipped order on the storefront page', { timeout: 240_000 }, async () => {
  const adminToken = localAdminToken();
  const products = await loadProducts(platform.edgeUrl, { adminToken, seedCount: 30, log });
  const choice = products.find((p) => !p.limited);
  assert.ok(choice, 'the seeded catalog has a product that is not limited');
  const detail = (await (await fetch(`${platform.edgeUrl}/api/catalog/products/${choice.slug}`)).json()) as { id: string; name: string; sku: string };
  const word = detail.name.split(/\s+/).find((w) => /^[A-Za-z]{3,}$/.test(w)) ?? detail.name;

  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${platform.edgeUrl}/#/?q=${encodeURIComponent(word)}`);
  const card = page.locator(`.product[data-sku="${detail.sku}"] a`);
  await card.waitFor({ timeout: 20_000 });
  assert.match(await page.locator('h1').innerText(), new RegExp(word));
  await card.click();

  await page.locator('form#add button[type=submit]').click();
  await page.locator('tr.line').first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('tr.line').count(), 1);
  assert.match(await page.locator('tr.line').innerText(), new RegExp(detail.sku));

  await page.locator('#to-checkout').click();
  await page.fill('input[name=email]', 'browser@example.com');
  await page.fill('input[name=name]', 'Bea Browser');
  await page.fill('input[name=line1]', '1 Page Street');
  await page.fill('input[name=city]', 'Berlin');
  await page.fill('input[name=postalCode]', '10115');
  await page.locator('#place-order').click();

  const status = page.locator('#order-status');
  // The order page polls every second and re-renders: paid, fulfilling, then shipped.
  await page.locator('#order-status', { hasText: /^shipped$/ }).waitFor({ timeout: 90_000 });
  assert.equal(await status.innerText(), 'shipped');
  const orderId = decodeURIComponent(new URL(page.url()).hash.replace('#/order/', ''));
  const shots = path.join(repoRoot, 'reports', 'storefront');
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'shipped-order.png'), fullPage: true });
  console.log(`storefront journey: order ${orderId} shipped; screenshot reports/storefront/shipped-order.png`);

  // The page's story matches the platform's: one order, shipped, with the product in it.
  const order = (await (await fetch(`${platform.edgeUrl}/api/orders/${orderId}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { order: { status: string; lines: Array<{ sku: string; quantity: number }> } };
  assert.equal(order.order.status, 'shipped');
  assert.deepEqual(order.order.lines.map((l) => [l.sku, l.quantity]), [[detail.sku, 1]]);
  assert.deepEqual(pageErrors, []);
});

test('a new visitor (no cart, not signed in) sends the ticket form and gets a ticket number', { timeout: 60_000 }, async () => {
  // A fresh context: empty localStorage, so no cart token until the form asks for one.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${platform.edgeUrl}/#/help`);
    await page.locator('form#ticket').waitFor({ timeout: 20_000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('cartToken')), null);
    await page.fill('form#ticket input[name=email]', 'guest@example.com');
    await page.fill('form#ticket input[name=subject]', 'Question about delivery');
    await page.fill('form#ticket textarea[name=message]', 'When does my parcel arrive?');
    await page.locator('form#ticket button[type=submit]').click();
    await page.locator('#flash', { hasText: /^Ticket t_\S+ opened/ }).waitFor({ timeout: 20_000 });
    assert.ok(await page.evaluate(() => localStorage.getItem('cartToken')), 'the form got the guest a cart token');
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});
