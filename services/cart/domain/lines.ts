/**
 * Adding, changing and removing lines. A limited-quantity line is saved only
 * after inventory confirmed its hold (Q3); a non-limited line never calls
 * inventory, so it can be added while inventory is down.
 */
import { isDependencyFailure, notFound, withoutStack, type AppError } from '../../kit/index.js';
import type { Product } from '../clients.js';
import type { CartDoc, CartLine } from '../models.js';
import type { CartDeps } from './context.js';
import { ensureHold, insufficient, mutateCart, newId } from './carts.js';
import { checkCartLimits, checkCustomerLimit, checkGuestLimit } from './limits.js';

/** What an add may skip: `soldOut`, answer this 409 at once; `probe`, go on and call `probe` after the add with what it failed with, if it failed. */
export type SoldOutPrecheck = { soldOut: AppError } | { probe: (failure?: unknown) => void } | undefined;

/**
 * A doorbuster that just sold out (sold-out.ts): the answer is known before the
 * cart's lock, the cart's read or any inventory call. Needs the product, from
 * the product cache, only while some SKU is remembered sold out. The 409 has no
 * stack trace: in a rush it is the most frequent answer of all, and never logged.
 */
export async function precheckSoldOut(deps: CartDeps, productId: string, quantity: number): Promise<SoldOutPrecheck> {
  if (!deps.soldOut.any()) return undefined;
  const known = await deps.clients.peekProduct(productId);
  if (!known?.limitedQuantity) return undefined;
  const state = deps.soldOut.check(known.sku);
  if (state === 'sold_out') return { soldOut: withoutStack(() => insufficient(known.sku, quantity, 0)) };
  return state === 'probe' ? { probe: (failure) => deps.soldOut.probed(known.sku, failure !== undefined && isDependencyFailure(failure)) } : undefined;
}

/**
 * Returns the saved cart and the product as catalog gave it (the view reuses it).
 * The product is fetched once the cart is known to exist (an unknown cart is a
 * 404 before an unknown product is a 422), inside the lock: the caller need not
 * read the cart first, which saves a read (a scan on FerretDB, see models.ts).
 * `clientKey` identifies a guest's client for `per_client` limited products;
 * without it the cart itself is the client. `opKey` is the request's
 * Idempotency-Key, if any: a second run of the same key changes nothing (mutateCart).
 * The caller asks `precheckSoldOut` first.
 */
export async function addLine(deps: CartDeps, cartId: string, productId: string, quantity: number, clientKey?: string, opKey?: string): Promise<{ cart: CartDoc; product: Product }> {
  let fetched: Product | undefined;
  const cart = await mutateCart(deps, cartId, async (cart) => {
    const product = await deps.clients.getProduct(productId);
    fetched = product;
    const existing = cart.lines.find((line) => line.productId === product.id);
    const total = (existing?.quantity ?? 0) + quantity;
    checkCartLimits(deps, cart, product, total, !existing);
    const line: CartLine = existing ?? {
      id: newId(), productId: product.id, sku: product.sku, name: product.name, quantity: 0, unitPrice: product.price,
      limited: product.limitedQuantity, maxPerOrder: product.maxPerOrder, hold: null, addedAt: new Date(deps.clock.now()),
    };
    if (product.limitedQuantity) {
      if (cart.customerId) {
        await checkCustomerLimit(deps, cart.customerId, product.sku, total, line.hold ? line.quantity : 0);
        line.hold = await ensureHold(deps, cart, line, total);
      } else line.hold = await guestHold(deps, cart, line, product.limitedPolicy, total, clientKey ?? cart._id);
      line.limited = true;
    }
    line.quantity = total;
    line.maxPerOrder = product.maxPerOrder;
    if (!existing) cart.lines.push(line);
  }, opKey);
  return { cart, product: fetched ?? (await deps.clients.getProduct(productId)) };
}

export async function setLineQuantity(deps: CartDeps, cartId: string, lineId: string, quantity: number, clientKey?: string, opKey?: string): Promise<CartDoc> {
  return mutateCart(deps, cartId, async (cart) => {
    const line = findLine(cart, lineId);
    checkCartLimits(deps, cart, { id: line.productId, maxPerOrder: line.maxPerOrder }, quantity, false);
    if (line.limited) {
      if (cart.customerId && quantity > line.quantity) await checkCustomerLimit(deps, cart.customerId, line.sku, quantity, line.hold ? line.quantity : 0);
      // The line exists, so the product let guests have it: per_client.
      if (!cart.customerId && quantity > line.quantity) line.hold = await guestHold(deps, cart, line, 'per_client', quantity, clientKey ?? cart._id);
      else line.hold = await ensureHold(deps, cart, line, quantity);
    }
    line.quantity = quantity;
  }, opKey);
}

/**
 * A guest's `per_client` cap spans carts (one client, many carts): the count and
 * the hold happen under one lock per client key and SKU, so concurrent adds from
 * several carts of one client cannot all pass the same count. Lock order is
 * always cart, then client cap, so the two locks cannot deadlock.
 */
async function guestHold(deps: CartDeps, cart: CartDoc, line: CartLine, policy: Product['limitedPolicy'], quantity: number, clientKey: string): Promise<CartLine['hold']> {
  const key = cart.clientKey ?? clientKey;
  return deps.lock(`cap:client:${key}:${line.sku}`, async () => {
    await checkGuestLimit(deps, cart, policy, line.sku, quantity, line.hold ? line.quantity : 0, clientKey);
    return ensureHold(deps, cart, line, quantity);
  });
}

export async function removeLine(deps: CartDeps, cartId: string, lineId: string, opKey?: string): Promise<CartDoc> {
  let released: string | undefined;
  const saved = await mutateCart(deps, cartId, async (cart) => {
    const line = findLine(cart, lineId);
    released = line.hold?.id;
    cart.lines = cart.lines.filter((other) => other.id !== lineId);
  }, opKey);
  // After the save: if inventory cannot take the release now, it is owed and retried (owed-releases.ts).
  if (released) await deps.releases.release(released);
  return saved;
}

function findLine(cart: CartDoc, lineId: string): CartLine {
  const line = cart.lines.find((candidate) => candidate.id === lineId);
  if (!line) throw notFound(`no line ${lineId} in this cart`);
  return line;
}
