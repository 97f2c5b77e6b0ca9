/**
 * Shopper sessions: what a person does on a sale day, as a sequence of
 * operations with think time between them. Browse/search (most), product
 * detail, add to cart (several lines, some limited items), checkout with an
 * Idempotency-Key (retried with the same key), FAQ and tickets (few).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storefront } from './client.js';

export const SESSION_KINDS = ['browse', 'cart', 'checkout', 'support'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];
export type Mix = Record<SessionKind, number>;

export const DEFAULT_MIX: Mix = { browse: 60, cart: 20, checkout: 15, support: 5 };
/** Operations a session of each kind makes on average (for turning a request rate into a session rate). */
export const REQUESTS_PER_SESSION: Mix = { browse: 3.5, cart: 6, checkout: 8, support: 1.3 };

export interface ProductRef {
  slug: string;
  sku: string;
  limited: boolean;
}

export interface Acknowledged {
  orderId: string;
  idempotencyKey: string;
  status: number;
  at: string;
}

/** What sessions share: the products to pick from, acknowledged orders, and whether optional routes exist. */
export interface ShopContext {
  storefront: Storefront;
  products: ProductRef[];
  limited: ProductRef[];
  categories: string[];
  thinkMs: number;
  acknowledged: Acknowledged[];
  /** Checkout answers with an error status (after retries), with key and status, for the report. */
  checkoutFailures: Array<{ idempotencyKey: string; status: number | 'error' }>;
  declined: number;
  checkoutAvailable: boolean;
  supportAvailable: boolean;
  notice: (line: string) => void;
  random: () => number;
}

/** Picks a session kind by weight. */
export function pickKind(mix: Mix, random: () => number): SessionKind {
  const total = SESSION_KINDS.reduce((sum, k) => sum + mix[k], 0);
  let roll = random() * total;
  for (const kind of SESSION_KINDS) {
    roll -= mix[kind];
    if (roll < 0) return kind;
  }
  return 'browse';
}

/** Mean operations per session for a mix. */
export function requestsPerSession(mix: Mix): number {
  const total = SESSION_KINDS.reduce((sum, k) => sum + mix[k], 0);
  return SESSION_KINDS.reduce((sum, k) => sum + (mix[k] / total) * REQUESTS_PER_SESSION[k], 0);
}

const SEARCH_WORDS = ['lamp', 'kettle', 'robot', 'jacket', 'tent', 'speaker', 'mug', 'novel', 'smart', 'eco'];

function pick<T>(list: readonly T[], random: () => number): T | undefined {
  return list.length === 0 ? undefined : list[Math.floor(random() * list.length)];
}

async function think(ctx: ShopContext): Promise<void> {
  // Exponential think time around the mean: people do not click in lockstep.
  if (ctx.thinkMs > 0) await sleep(Math.min(ctx.thinkMs * 5, -Math.log(1 - ctx.random()) * ctx.thinkMs));
}

async function browse(ctx: ShopContext): Promise<void> {
  const { storefront: s, random } = ctx;
  const category = pick(ctx.categories, random);
  await s.call('catalog.list', `/api/catalog/products?limit=24${category ? `&category=${category}` : ''}`);
  await think(ctx);
  if (random() < 0.6) {
    await s.call('catalog.search', `/api/catalog/products?q=${pick(SEARCH_WORDS, random)}&limit=24`);
    await think(ctx);
  }
  const product = pick(ctx.products, random);
  if (product) await s.call('catalog.product', `/api/catalog/products/${product.slug}`);
  if (random() < 0.4 && product) {
    await think(ctx);
    await s.call('inventory.availability', `/api/inventory/availability/${product.sku}`);
  }
}

/** Creates a cart and adds 2-4 lines, one of them a limited item about a third of the time; returns the cart token. */
async function fillCart(ctx: ShopContext): Promise<string | undefined> {
  const { storefront: s, random } = ctx;
  await s.call('catalog.list', `/api/catalog/products?limit=24&category=${pick(ctx.categories, random) ?? 'home'}`);
  await think(ctx);
  const created = await s.call('cart.create', '/api/cart/carts', { method: 'POST', body: {} });
  const token = (created.body as { token?: string } | undefined)?.token;
  if (typeof token !== 'string') return undefined;
  const lines = 2 + Math.floor(random() * 3);
  for (let i = 0; i < lines; i += 1) {
    const useLimited = i === 0 && random() < 0.35 && ctx.limited.length > 0;
    const product = pick(useLimited ? ctx.limited : ctx.products, random);
    if (!product) break;
    await think(ctx);
    await s.call('cart.add', '/api/cart/cart/lines', { method: 'POST', headers: { 'x-cart-token': token, 'idempotency-key': randomUUID() }, body: { productId: product.slug, quantity: useLimited ? 1 : 1 + Math.floor(random() * 2) } });
  }
  await think(ctx);
  await s.call('cart.get', '/api/cart/cart', { headers: { 'x-cart-token': token } });
  return token;
}

const ADDRESS = { name: 'Gameday Shopper', line1: '1 Load Street', city: 'Loopback', postalCode: '12345', country: 'DE' };

async function checkout(ctx: ShopContext): Promise<void> {
  const token = await fillCart(ctx);
  if (!token || !ctx.checkoutAvailable) return;
  await think(ctx);
  const key = randomUUID();
  const answer = await ctx.storefront.call('checkout', '/api/checkout', {
    method: 'POST',
    headers: { 'x-cart-token': token, 'idempotency-key': key },
    body: { email: `shopper+${key.slice(0, 8)}@example.com`, shippingAddress: ADDRESS },
    retryAlso: (status, body) => status === 409 && JSON.stringify(body ?? '').includes('in_progress'),
    optional: true,
  });
  if (answer.status === 404 && ctx.checkoutAvailable && JSON.stringify(answer.body ?? '').includes('no service routes')) {
    ctx.checkoutAvailable = false;
    ctx.notice('checkout is not deployed (POST /api/checkout answered 404): sessions skip checkout from now on');
    return;
  }
  if (answer.status === 402) ctx.declined += 1;
  const orderId = (answer.body as { order?: { id?: string } } | undefined)?.order?.id;
  if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300 && typeof orderId === 'string') {
    ctx.acknowledged.push({ orderId, idempotencyKey: key, status: answer.status, at: new Date().toISOString() });
    await think(ctx);
    await ctx.storefront.call('order.get', `/api/orders/${encodeURIComponent(orderId)}`, { headers: { 'x-cart-token': token } });
  } else if (answer.status === 'error' || answer.status >= 500) {
    ctx.checkoutFailures.push({ idempotencyKey: key, status: answer.status });
  }
}

async function support(ctx: ShopContext): Promise<void> {
  if (!ctx.supportAvailable) return;
  const faq = await ctx.storefront.call('support.faq', '/api/support/faq', { optional: true });
  if (faq.status === 404) {
    ctx.supportAvailable = false;
    ctx.notice('support is not deployed (GET /api/support/faq answered 404): sessions skip FAQ and tickets from now on');
    return;
  }
  if (ctx.random() < 0.3) {
    await think(ctx);
    await ctx.storefront.call('support.ticket', '/api/support/tickets', {
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
      body: { email: 'shopper@example.com', subject: 'Where is my order?', message: 'Ordered during the sale; when will it ship?' },
      optional: true,
    });
  }
}

/** Runs one session of `kind` to its end (or until the request budget runs out). */
export async function runSession(kind: SessionKind, ctx: ShopContext): Promise<void> {
  if (kind === 'browse') return browse(ctx);
  if (kind === 'cart') {
    await fillCart(ctx);
    return;
  }
  if (kind === 'checkout') return checkout(ctx);
  return support(ctx);
}
