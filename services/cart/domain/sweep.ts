/**
 * Q2: carts past their sliding expiry are deleted, and their holds released
 * first (a TTL index would drop the document but not give stock back, and
 * FerretDB has none). A cart is claimed (state 'expiring') before its holds are
 * released; a replica killed after the claim leaves it for the next pass, which
 * takes claims older than a minute. Two replicas may both process one cart:
 * releasing a hold and deleting a cart are idempotent, so that is harmless.
 *
 * Finding the candidates is the one cart query not by `_id`, so on FerretDB it
 * scans every cart (models.ts). That is acceptable here: one scan per pass, in
 * the background, every CART_SWEEP_INTERVAL_MS (60 s) per replica, never on a
 * request. Each candidate is then claimed and deleted by `_id` under its lock.
 */
import { deleteByIdIf, updateByIdIf } from '../../kit/index.js';
import { cartsIn, type CartDoc } from '../models.js';
import type { CartDeps } from './context.js';

const RECLAIM_AFTER_MS = 60_000;

const claimable = (cart: CartDoc, now: number) =>
  (cart.state === 'open' && cart.expiresAt.getTime() <= now) || (cart.state === 'expiring' && cart.updatedAt.getTime() <= now - RECLAIM_AFTER_MS);

export async function sweepCarts(deps: CartDeps): Promise<number> {
  const now = deps.clock.now();
  const candidates = await deps.models.Cart.find(
    { $or: [{ state: 'open', expiresAt: { $lte: new Date(now) } }, { state: 'expiring', updatedAt: { $lte: new Date(now - RECLAIM_AFTER_MS) } }] },
    { _id: 1 },
  )
    .sort({ expiresAt: 1 })
    .limit(deps.config.CART_SWEEP_BATCH)
    .lean<Pick<CartDoc, '_id'>[]>();
  let removed = 0;
  for (const { _id } of candidates) if (await sweepOne(deps, _id)) removed++;
  return removed;
}

async function sweepOne(deps: CartDeps, id: string): Promise<boolean> {
  const claimed = await deps.lock(id, async () => {
    const cart = await deps.models.Cart.findById(id).lean<CartDoc>();
    const now = deps.clock.now();
    if (!cart || !claimable(cart, now)) return null;
    return updateByIdIf(cartsIn(deps.models), id, { version: cart.version, state: cart.state }, { $set: { state: 'expiring', updatedAt: new Date(now) } });
  });
  if (!claimed || !(await releaseAll(deps, claimed))) return false;
  return deps.lock(id, () => deleteByIdIf(cartsIn(deps.models), id, { version: claimed.version, state: 'expiring' }));
}

/** True when every live hold of the cart was released (or had already ended). */
export async function releaseAll(deps: CartDeps, cart: CartDoc): Promise<boolean> {
  const holds = cart.lines.flatMap((line) => (line.hold && line.hold.status === 'active' && line.hold.expiresAt.getTime() > deps.clock.now() ? [line.hold.id] : []));
  try {
    await Promise.all(holds.map((id) => deps.clients.releaseHold(id)));
    return true;
  } catch {
    // Inventory is down: keep the cart claimed; the next pass retries (the holds expire anyway).
    return false;
  }
}
