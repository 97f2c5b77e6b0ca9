/**
 * The recovery job, on every replica (kit sweeper): finds orders whose flow
 * stopped (process killed, dependency down, provider timeout), claims each one
 * (the flow lock, then `claimedUntil` so other replicas skip it), and acts:
 *
 * - pending at `created`: the request died before charging, and its shopper got
 *   no answer: the order is dropped as `payment_failed`/`abandoned`; the cart
 *   keeps its holds and a retry with a new key starts over.
 * - pending at `charging`: ask the provider; captured → go on (commit, paid);
 *   otherwise void and fail (holds released).
 * - pending at `committing`: go on committing.
 * - paid but the cart not emptied, failed but not compensated: finish that.
 */
import { unavailable } from '../../kit/index.js';
import type { OrderDoc } from '../models.js';
import { advance, resolveCharge, type CheckoutDeps } from './checkout.js';
import { fail } from './compensate.js';
import { updateOrderIf } from './orders.js';

export interface RecoveryOptions {
  /** An order untouched this long is stuck. */
  stuckAfterMs: number;
  batch?: number;
}

type OrderFilter = Record<string, unknown>;
/** Orders not settled: not yet paid or failed, or failed with their units not given back. */
const UNSETTLED: readonly OrderFilter[] = [{ status: 'pending' }, ...['payment_failed', 'cancelled'].map((status) => ({ status, compensated: false }))];
/** Orders whose flow has not finished: the unsettled ones, and paid ones whose cart was not emptied yet. */
export const UNFINISHED: readonly OrderFilter[] = [...UNSETTLED, ...['paid', 'fulfilling', 'shipped'].map((status) => ({ status, cartCleared: false }))];

/** One recovery pass; returns how many orders it acted on. */
export async function recoverOrders(deps: CheckoutDeps, options: RecoveryOptions): Promise<number> {
  const now = deps.clock.now();
  const before = new Date(now - options.stuckAfterMs);
  const batch = options.batch ?? 50;
  // One equality query per unfinished kind, oldest first: each matches only orders still in flight, so a pass
  // costs the same with a million settled orders (FerretDB 1.24 pushes down equality only, no range or $or).
  const found = await Promise.all(UNFINISHED.map((filter) => deps.models.Order.find(filter).sort({ updatedAt: 1 }).limit(batch).lean<OrderDoc[]>()));
  const stuck = found.flat().filter((order) => order.updatedAt <= before).sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime()).slice(0, batch);
  let handled = 0;
  for (const candidate of stuck) {
    if (candidate.claimedUntil && candidate.claimedUntil.getTime() > now) continue;
    try {
      await deps.flowLock(candidate._id, async () => {
        const claimed = await updateOrderIf(deps, candidate._id, candidate.status, { claimedUntil: new Date(deps.clock.now() + 30_000) }, { updatedAt: candidate.updatedAt });
        if (!claimed) return;
        await recoverOne(deps, claimed);
        handled += 1;
      });
    } catch (error) {
      deps.logger.warn({ orderId: candidate._id, err: error }, 'recovery of an order failed; next pass retries');
    }
  }
  return handled;
}

async function recoverOne(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  deps.logger.info({ orderId: order._id, status: order.status, step: order.step }, 'recovering order');
  if (order.status === 'pending' && order.step === 'created') return fail(deps, order, 'payment_failed', 'abandoned');
  if (order.status === 'pending' && order.step === 'charging') {
    const resolved = await resolveCharge(deps, order);
    return resolved.status === 'pending' ? advance(deps, order._id) : resolved;
  }
  return advance(deps, order._id);
}

/**
 * Orders whose checkout began more than `olderThanMs` ago and is still not settled:
 * pending (not paid, not failed), or failed/cancelled with units not yet given back.
 * Recovery settles such orders within seconds; any left are what the `OrdersStuck`
 * alert is about (the `checkout_orders_stuck` gauge, set after each recovery pass).
 * One equality query per status (FerretDB pushes equality down, not `$in`).
 */
export async function countStuckOrders(deps: Pick<CheckoutDeps, 'models' | 'clock'>, olderThanMs: number): Promise<number> {
  const createdAt = { $lte: new Date(deps.clock.now() - olderThanMs) };
  const counts = await Promise.all(UNSETTLED.map((filter) => deps.models.Order.countDocuments({ ...filter, createdAt })));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** The 503 a checkout answers when the flow lock cannot be taken (Redis down or the order busy). */
export const busyOrder = () => unavailable('checkout_busy', 'this checkout is being processed; try again shortly', 2);
