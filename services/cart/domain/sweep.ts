/**
 * Q2: carts past their sliding expiry are deleted, and their holds released
 * first (a TTL index would drop the document but not give stock back, and
 * FerretDB has none). A cart is claimed (state 'expiring') before its holds are
 * released; a replica killed after the claim leaves it for the next pass, which
 * takes claims older than a minute. Two replicas may both process one cart:
 * releasing a hold and deleting a cart are idempotent, so that is harmless.
 */
import type { CartDoc } from '../models.js';
import type { CartDeps } from './context.js';

const RECLAIM_AFTER_MS = 60_000;

export async function sweepCarts(deps: CartDeps): Promise<number> {
  let removed = 0;
  for (let i = 0; i < deps.config.CART_SWEEP_BATCH; i++) {
    const now = deps.clock.now();
    const claimed = await deps.models.Cart.findOneAndUpdate(
      { $or: [{ state: 'open', expiresAt: { $lte: new Date(now) } }, { state: 'expiring', updatedAt: { $lte: new Date(now - RECLAIM_AFTER_MS) } }] },
      { $set: { state: 'expiring', updatedAt: new Date(now) } },
      { new: true, lean: true, sort: { expiresAt: 1 } },
    );
    if (!claimed) break;
    if (!(await releaseAll(deps, claimed))) continue;
    await deps.models.Cart.deleteOne({ _id: claimed._id, state: 'expiring' });
    removed++;
  }
  return removed;
}

/** True when every live hold of the cart was released (or had already ended). */
async function releaseAll(deps: CartDeps, cart: CartDoc): Promise<boolean> {
  const holds = cart.lines.flatMap((line) => (line.hold && line.hold.status === 'active' && line.hold.expiresAt.getTime() > deps.clock.now() ? [line.hold.id] : []));
  try {
    await Promise.all(holds.map((id) => deps.clients.releaseHold(id)));
    return true;
  } catch {
    // Inventory is down: keep the cart claimed; the next pass retries (the holds expire anyway).
    return false;
  }
}
