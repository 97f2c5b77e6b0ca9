/**
 * Q2: carts past their sliding expiry are deleted, and their holds released
 * first (a TTL index would drop the document but not give stock back, and
 * FerretDB has none). A cart is claimed (state 'expiring') before its holds are
 * released; a replica killed after the claim leaves it for the next pass, which
 * takes claims older than a minute. Two replicas may both process one cart:
 * releasing a hold and deleting a cart are idempotent, so that is harmless.
 *
 * Candidates are found with equality queries only (FerretDB 1.24 pushes nothing
 * else down, so the range query this used to make read every cart each pass):
 * open carts by expiry bucket from the sweep's mark on (kit/time-buckets.ts), and
 * claims left by a dead replica by state, their age checked here. Each candidate
 * is then claimed and deleted by `_id` under its lock.
 */
import { createBucketMarks, deleteByIdIf, sweepDueBuckets, updateByIdIf } from '../../kit/index.js';
import { CART_EXPIRY_BUCKET_MS, cartsIn, type CartDoc } from '../models.js';
import type { CartDeps } from './context.js';

const RECLAIM_AFTER_MS = 60_000;

const claimable = (cart: CartDoc, now: number) =>
  (cart.state === 'open' && cart.expiresAt.getTime() <= now) || (cart.state === 'expiring' && cart.updatedAt.getTime() <= now - RECLAIM_AFTER_MS);


export async function sweepCarts(deps: CartDeps): Promise<number> {
  const now = deps.clock.now();
  const batch = deps.config.CART_SWEEP_BATCH;
  let removed = 0;
  // Claims a replica left behind (it died between claim and delete): few, by state.
  const abandoned = await deps.models.Cart.find({ state: 'expiring' }, { state: 1, updatedAt: 1, expiresAt: 1, version: 1 }).lean<CartDoc[]>();
  for (const cart of abandoned.filter((c) => claimable(c, now)).slice(0, batch)) if (await sweepOne(deps, cart._id)) removed++;
  await sweepDueBuckets<Pick<CartDoc, '_id' | 'expiresAt'>>({
    name: 'carts:open', marks: createBucketMarks(deps.models.Cart.db), sizeMs: CART_EXPIRY_BUCKET_MS, dueAt: now, batch: batch - removed,
    load: (bucket) => deps.models.Cart.find({ state: 'open', expiryBucket: bucket }, { expiresAt: 1 }).lean<Array<Pick<CartDoc, '_id' | 'expiresAt'>>>(),
    loadAllDue: () => deps.models.Cart.find({ state: 'open', expiresAt: { $lte: new Date(now) } }, { expiresAt: 1 }).lean<Array<Pick<CartDoc, '_id' | 'expiresAt'>>>(),
    timeOf: (cart) => cart.expiresAt,
    handle: async (cart) => {
      if (await sweepOne(deps, cart._id)) removed++;
    },
  });
  return removed;
}

async function sweepOne(deps: CartDeps, id: string): Promise<boolean> {
  const claimed = await deps.lock(id, async () => {
    const cart = await deps.models.Cart.findById(id).lean<CartDoc>();
    const now = deps.clock.now();
    if (!cart || !claimable(cart, now)) return null;
    const claim = await updateByIdIf(cartsIn(deps.models), id, { version: cart.version, state: cart.state }, { $set: { state: 'expiring', updatedAt: new Date(now) } });
    if (claim) await deps.cache.drop(id);
    return claim;
  });
  if (!claimed || !(await releaseAll(deps, claimed))) return false;
  return deps.lock(id, async () => {
    const deleted = await deleteByIdIf(cartsIn(deps.models), id, { version: claimed.version, state: 'expiring' });
    await deps.cache.drop(id);
    return deleted;
  });
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
