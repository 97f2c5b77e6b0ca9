/**
 * Sign-in: the anonymous cart's lines move into the customer's cart. Quantities
 * of a product in both add up, clamped to the limits (the notices say where).
 * Order of writes (no transactions): customer cart saved with `mergedFrom`
 * naming the anonymous cart, then the anonymous cart deleted, then its unused
 * holds released. A retry after a crash sees `mergedFrom` and only finishes the
 * cleanup; a hold never released expires on its own.
 */
import { AppError, notFound } from '../../kit/index.js';
import type { CartDoc, CartLine } from '../models.js';
import type { CartDeps } from './context.js';
import { createCart, ensureHold, findByToken, mutateCart, type Notice } from './carts.js';
import { checkCartLimits, checkCustomerLimit } from './limits.js';

export async function mergeCarts(deps: CartDeps, customerId: string, anonToken: string): Promise<{ cart: CartDoc; notices: Notice[] }> {
  const anon = await findByToken(deps, anonToken);
  // Another customer's cart, an unknown token and an expired cart look the same.
  if (!anon || anon.customerId) throw notFound('no such cart');
  const { cart: target } = await createCart(deps, customerId);
  const notices: Notice[] = [];
  const toRelease: string[] = [];
  const saved = await mutateCart(deps, target._id, async (cart) => {
    if (cart.mergedFrom.includes(anon._id)) return;
    for (const line of anon.lines) await mergeLine(deps, cart, line, notices, toRelease);
    cart.mergedFrom = [...cart.mergedFrom, anon._id].slice(-20);
  });
  // Under the guest cart's lock, as every write of a cart, so its Redis copy goes with it (cart-cache.ts).
  await deps.lock(anon._id, async () => {
    await deps.models.Cart.deleteOne({ _id: anon._id });
    await deps.cache.drop(anon._id);
  });
  await Promise.all(toRelease.map((id) => deps.releases.release(id)));
  return { cart: saved, notices };
}

async function mergeLine(deps: CartDeps, cart: CartDoc, incoming: CartLine, notices: Notice[], toRelease: string[]): Promise<void> {
  const existing = cart.lines.find((line) => line.productId === incoming.productId);
  const wanted = (existing?.quantity ?? 0) + incoming.quantity;
  const quantity = await fit(deps, cart, incoming, wanted, existing);
  if (quantity <= (existing?.quantity ?? 0)) {
    if (incoming.hold) toRelease.push(incoming.hold.id);
    notices.push({ lineId: existing?.id ?? incoming.id, code: 'hold_lost', detail: `${incoming.name}: could not add ${incoming.quantity} from the guest cart (limit reached)` });
    return;
  }
  if (quantity < wanted) notices.push({ lineId: existing?.id ?? incoming.id, code: 'hold_lost', detail: `${incoming.name}: quantity reduced to ${quantity} (limit)` });
  if (existing) {
    if (existing.limited) existing.hold = await holdOrKeep(deps, cart, existing, quantity, notices, incoming.hold?.id);
    if (incoming.hold) toRelease.push(incoming.hold.id);
    existing.quantity = existing.hold?.status === 'lost' ? existing.quantity : quantity;
    return;
  }
  const moved: CartLine = { ...incoming };
  // The guest hold is re-owned by the customer (and resized if clamped); if that fails it is released.
  if (moved.limited) {
    moved.hold = await holdOrKeep(deps, cart, moved, quantity, notices);
    if (incoming.hold && moved.hold?.id !== incoming.hold.id) toRelease.push(incoming.hold.id);
  }
  moved.quantity = quantity;
  cart.lines.push(moved);
}

/** The largest quantity up to `wanted` that the cart and customer limits allow (0 when none). */
async function fit(deps: CartDeps, cart: CartDoc, line: CartLine, wanted: number, existing: CartLine | undefined): Promise<number> {
  for (let quantity = wanted; quantity > (existing?.quantity ?? 0); quantity--) {
    try {
      checkCartLimits(deps, cart, { id: line.productId, maxPerOrder: line.maxPerOrder }, quantity, !existing);
      if (line.limited && cart.customerId) await checkCustomerLimit(deps, cart.customerId, line.sku, quantity, existing?.hold ? existing.quantity : 0);
      return quantity;
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 422) throw error;
      // Line-count limit: no smaller quantity helps.
      if (error.code === 'cart_line_limit') return 0;
    }
  }
  return 0;
}

/**
 * `spare`: the guest's hold of the same product, released after the merge anyway. When stock is short it is
 * released first and the hold asked again, so the customer's hold can grow into the guest's units.
 */
async function holdOrKeep(deps: CartDeps, cart: CartDoc, line: CartLine, quantity: number, notices: Notice[], spare?: string): Promise<CartLine['hold']> {
  try {
    return await ensureHold(deps, cart, line, quantity);
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 409) throw error;
    if (spare) {
      await deps.clients.releaseHold(spare);
      // The failed attempt may have used hold id gen+1 (inventory keeps it as rejected): the retry takes the next one.
      return holdOrKeep(deps, cart, line.hold ? { ...line, hold: { ...line.hold, gen: line.hold.gen + 1 } } : line, quantity, notices);
    }
    notices.push({ lineId: line.id, code: 'hold_lost', detail: `${line.name}: not enough stock to hold ${quantity}`, available: (error.extra.available as number) ?? 0 });
    return line.hold ? { ...line.hold, gen: line.hold.gen + 1, status: 'lost' as const } : null;
  }
}
