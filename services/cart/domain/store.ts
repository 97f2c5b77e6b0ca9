/**
 * Guarded writes to one cart, by `_id`. On MongoDB the guard is part of the
 * filter, so the write is atomic. On FerretDB (`models.byIdOnly`) a filter
 * other than exactly `{ _id }` is a scan of every cart (see models.ts), so the
 * cart is read by `_id`, the guard checked here, and the write filtered by `_id`
 * alone: FerretDB's own conditional update is the same read-check-write, no more
 * atomic, and callers hold the cart's lock.
 */
import type { UpdateQuery } from 'mongoose';
import type { CartDoc } from '../models.js';
import type { CartDeps } from './context.js';

/** Equality on fields read earlier: the write applies only if they still hold. */
export type CartGuard = Partial<Pick<CartDoc, 'version' | 'state'>>;

const holds = (cart: CartDoc, guard: CartGuard) => Object.entries(guard).every(([key, value]) => cart[key as keyof CartGuard] === value);

/**
 * The updated cart, or null when it is gone or the guard failed. `seen`: the
 * cart as the caller read it under the cart's lock in this same critical
 * section; on FerretDB the guard is checked against it instead of reading again
 * (one scan less per request; only a lock lease that ran out could differ).
 */
export async function updateCart(deps: Pick<CartDeps, 'models'>, id: string, guard: CartGuard, update: UpdateQuery<CartDoc>, seen?: CartDoc): Promise<CartDoc | null> {
  const { Cart, byIdOnly } = deps.models;
  if (!byIdOnly) return Cart.findOneAndUpdate({ _id: id, ...guard }, update, { new: true, lean: true });
  const current = seen ?? (await Cart.findById(id).lean<CartDoc>());
  if (!current || !holds(current, guard)) return null;
  return Cart.findOneAndUpdate({ _id: id }, update, { new: true, lean: true });
}

/** Deletes the cart if the guard holds; true when it did. */
export async function deleteCart(deps: Pick<CartDeps, 'models'>, id: string, guard: CartGuard): Promise<boolean> {
  const { Cart, byIdOnly } = deps.models;
  if (!byIdOnly) return (await Cart.deleteOne({ _id: id, ...guard })).deletedCount > 0;
  const current = await Cart.findById(id).lean<CartDoc>();
  if (!current || !holds(current, guard)) return false;
  return (await Cart.deleteOne({ _id: id })).deletedCount > 0;
}
