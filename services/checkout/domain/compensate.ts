/**
 * Ending an order that will not sell: mark it failed or cancelled (freeing its
 * cart version, so the cart can be checked out again), then give its units
 * back: a live hold is released, a committed one restocked (inventory's
 * restock of a committed hold, once per hold, so a repeat restocks once).
 * `compensated` records that all of it happened; recovery repeats
 * compensation until it has.
 */
import type { OrderDoc, OrderStatus } from '../models.js';
import type { CheckoutDeps } from './checkout.js';
import { updateOrderIf } from './orders.js';

/** Moves a pending order to `status` for `reason` and compensates it. */
export async function fail(deps: CheckoutDeps, order: OrderDoc, status: Extract<OrderStatus, 'payment_failed' | 'cancelled'>, reason: string): Promise<OrderDoc> {
  const failed = await updateOrderIf(deps, order._id, 'pending', { status, reason, cartVersion: `${order.cartVersion}#${order._id}`, compensated: false });
  if (!failed) return (await deps.models.Order.findById(order._id).lean<OrderDoc>()) ?? order;
  deps.onOutcome?.(status);
  deps.logger.info({ orderId: order._id, status, reason }, 'order did not sell; compensating');
  return compensate(deps, failed);
}

/** Gives the order's units back; marks the order compensated once every hold is dealt with. */
export async function compensate(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  // An order abandoned before its charge never touched its holds: they stay with the cart.
  if (order.reason === 'abandoned') return (await updateOrderIf(deps, order._id, order.status, { compensated: true })) ?? order;
  const released: string[] = [];
  for (const line of order.lines) {
    if (!line.holdId) continue;
    const result = await deps.clients.releaseHold(line.holdId);
    if (result === 'released') released.push(line.holdId);
    if (result === 'committed') await deps.clients.restock(line.holdId);
  }
  if (released.length > 0 && order.status !== 'cancelled') {
    await deps.clients.holdsReleased(order.cartId, released).catch((error: unknown) => deps.logger.warn({ orderId: order._id, err: error }, 'cart not told about released holds'));
  }
  return (await updateOrderIf(deps, order._id, order.status, { compensated: true })) ?? order;
}
