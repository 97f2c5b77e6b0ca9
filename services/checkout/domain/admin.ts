/**
 * Order changes made after checkout: an admin's cancel (refund through the
 * adapter, units back to stock) and the fulfillment worker's status updates.
 */
import { conflict, notFound } from '../../kit/index.js';
import type { OrderDoc } from '../models.js';
import type { CheckoutDeps } from './checkout.js';
import { compensate } from './compensate.js';
import { transition } from './orders.js';

/** Cancels a paid or fulfilling order: status first (so fulfillment stops), then refund, then stock back. */
export async function cancelOrder(deps: CheckoutDeps, id: string): Promise<OrderDoc> {
  const order = await deps.models.Order.findById(id).lean<OrderDoc>();
  if (!order) throw notFound(`no order ${id}`);
  if (order.status === 'cancelled') return order.compensated ? order : compensate(deps, order);
  if (order.status !== 'paid' && order.status !== 'fulfilling') throw conflict('invalid_transition', `an order that is ${order.status} cannot be cancelled`, { from: order.status, to: 'cancelled' });
  const cancelled = await transition(deps, id, 'cancelled', { reason: 'admin', compensated: false });
  await deps.payments.refundOrVoid(id);
  return compensate(deps, cancelled);
}

/** The worker's progress: paid → fulfilling → shipped; 409 for anything else (e.g. a cancelled order). */
export async function markFulfillment(deps: CheckoutDeps, id: string, to: 'fulfilling' | 'shipped'): Promise<OrderDoc> {
  const order = await deps.models.Order.findById(id).lean<OrderDoc>();
  if (!order) throw notFound(`no order ${id}`);
  if (order.status === 'shipped') return order;
  if (to === 'fulfilling' && order.status === 'fulfilling') return order;
  return transition(deps, id, to);
}
