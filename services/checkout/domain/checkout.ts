/**
 * The checkout flow (docs/checkout.md). Each step is recorded on the order
 * before its effect, and every effect is idempotent (charge by order id, hold
 * commit/release by hold id, restock by adjustment id), so the request, a
 * retry with the same key, or the recovery job may resume it after a crash:
 *
 *   re-validate cart → order pending (id from the key; unique per cart version)
 *   → charge → commit holds → paid + outbox pending (one update) → cart lines removed
 *
 * The charge comes before the commit (the issue lists commit first) so that a
 * decline, timeout or outage only has to release live holds: a committed unit
 * would have to be restocked and would still count towards the customer's cap.
 */
import { createHash } from 'node:crypto';
import { AppError, conflict, unprocessable, type Logger } from '../../kit/index.js';
import type { CheckoutCart, CheckoutClients } from '../clients.js';
import type { OrderDoc, ShippingAddress } from '../models.js';
import { compensate, fail } from './compensate.js';
import { updateOrderIf, type OrderDeps } from './orders.js';
import { paymentUnavailable, PaymentTimeoutError, PaymentUnavailableError, type PaymentAdapter } from './payments.js';

export interface CheckoutDeps extends OrderDeps {
  clients: CheckoutClients;
  payments: PaymentAdapter;
  /** Whole-flow lock per order: the request and recovery never advance one order at once. */
  flowLock: <T>(orderId: string, fn: () => Promise<T>) => Promise<T>;
  logger: Logger;
  /** Called between steps; tests throw, stop Redis or kill the process here (test/checkout/crash.test.ts, redis-outage.test.ts). */
  checkpoint?: (point: CrashPoint) => void | Promise<void>;
  /** Told once per order how its checkout ended, by whoever made that transition (the `checkout_orders_total` counter). */
  onOutcome?: (outcome: CheckoutOutcome) => void;
}

/** How a checkout ends: the order is `paid`, `payment_failed` (declined, provider down, unknown and voided, abandoned), or `cancelled` (a hold ended before its commit; refunded). */
export type CheckoutOutcome = 'paid' | 'payment_failed' | 'cancelled';
export const CHECKOUT_OUTCOMES: readonly CheckoutOutcome[] = ['paid', 'payment_failed', 'cancelled'];

export type CrashPoint = 'created' | 'charging' | 'charged' | 'committing' | 'committed' | 'paid';

export interface CheckoutInput {
  /** `<scope>:<Idempotency-Key>`. */
  key: string;
  /** The shopper's credentials, passed through to the cart service. */
  shopper: { cartToken?: string; authorization?: string };
  email: string;
  shippingAddress: ShippingAddress;
}

/** The order id a key gives: one order per key, by construction. */
export const orderIdFor = (key: string) => `o_${createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;

/** Places the order, or resumes the one this key placed before. */
export async function placeOrder(deps: CheckoutDeps, input: CheckoutInput): Promise<OrderDoc> {
  const id = orderIdFor(input.key);
  const existing = await deps.models.Order.findById(id).lean<OrderDoc>();
  if (existing) return deps.flowLock(id, () => advance(deps, existing._id));
  const headers: Record<string, string> = {};
  if (input.shopper.cartToken) headers['x-cart-token'] = input.shopper.cartToken;
  if (input.shopper.authorization) headers.authorization = input.shopper.authorization;
  const cart = await deps.clients.shopperCart(headers);
  const order = newOrder(deps, id, input, cart);
  try {
    await deps.models.Order.create(order);
    await deps.checkpoint?.('created');
  } catch (error) {
    if ((error as { code?: number; keyPattern?: Record<string, unknown> }).code !== 11000) throw error;
    const raced = await deps.models.Order.findById(id).lean<OrderDoc>();
    if (raced) return deps.flowLock(id, () => advance(deps, id));
    throw conflict('cart_checkout_in_progress', 'this cart is already being checked out; look at your orders, or change the cart and try again');
  }
  return deps.flowLock(id, () => advance(deps, id));
}

/** Re-validates the cart (current prices, live holds, one currency) into a pending order. */
function newOrder(deps: CheckoutDeps, id: string, input: CheckoutInput, cart: CheckoutCart): OrderDoc {
  if (cart.lines.length === 0) throw unprocessable('empty_cart', 'the cart has no lines');
  const unpriced = cart.lines.filter((line) => !line.currentUnitPrice);
  if (unpriced.length > 0) throw new AppError(503, 'catalog_unavailable', 'Service unavailable', { detail: 'current prices cannot be read; try again shortly', headers: { 'retry-after': '5' } });
  const lost = cart.lines.filter((line) => line.limited && (line.holdStatus !== 'active' || !line.holdId));
  if (lost.length > 0) throw conflict('hold_expired', 'some limited items are no longer reserved; view the cart to reserve them again', { lineIds: lost.map((line) => line.id) });
  const currency = cart.lines[0]?.currentUnitPrice?.currency ?? 'EUR';
  if (cart.lines.some((line) => line.currentUnitPrice?.currency !== currency)) throw unprocessable('mixed_currency', 'the cart mixes currencies');
  const lines = cart.lines.map((line) => ({
    productId: line.productId, sku: line.sku, name: line.name, quantity: line.quantity,
    unitPrice: { amount: line.currentUnitPrice?.amount ?? 0, currency }, ...(line.holdId ? { holdId: line.holdId } : {}),
  }));
  const now = new Date(deps.clock.now());
  return {
    _id: id, status: 'pending', step: 'created', idempotencyKey: input.key, cartId: cart.id, cartVersion: `${cart.id}:${cart.version}`,
    customerId: cart.customerId, cartTokenHash: input.shopper.cartToken ? createHash('sha256').update(input.shopper.cartToken).digest('hex') : null,
    cartLineIds: cart.lines.map((line) => line.id), email: input.email.toLowerCase(), shippingAddress: input.shippingAddress, lines,
    total: { amount: lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0), currency },
    reason: null, payment: null, outbox: { state: 'none', sentAt: null }, cartCleared: false, compensated: false, claimedUntil: null, createdAt: now, updatedAt: now,
  };
}

/**
 * Moves a pending order as far as it can go; returns it as it ends up. The
 * caller holds the flow lock. Safe to call on any order, any number of times.
 */
export async function advance(deps: CheckoutDeps, id: string): Promise<OrderDoc> {
  let order = await mustFind(deps, id);
  if (order.status === 'pending' && (order.step === 'created' || order.step === 'charging')) order = await charge(deps, order);
  if (order.status === 'pending' && order.step === 'committing') order = await commitHolds(deps, order);
  if (order.status === 'paid' && !order.cartCleared) order = await clearCart(deps, order);
  if ((order.status === 'payment_failed' || order.status === 'cancelled') && !order.compensated) order = await compensate(deps, order);
  return order;
}

async function charge(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  // Recorded before the call: from here on, only the provider knows whether money moved.
  const charging = order.step === 'charging' ? order : await updateOrderIf(deps, order._id, 'pending', { step: 'charging' }, { step: 'created' });
  if (!charging) return mustFind(deps, order._id);
  await deps.checkpoint?.('charging');
  try {
    const outcome = await deps.payments.charge({ orderId: order._id, amount: order.total.amount, currency: order.total.currency });
    await deps.checkpoint?.('charged');
    if (outcome.status === 'declined') return fail(deps, order, 'payment_failed', 'payment_declined');
    return (await updateOrderIf(deps, order._id, 'pending', { step: 'committing', payment: { chargeId: outcome.chargeId, status: 'captured' } }, { step: 'charging' })) ?? mustFind(deps, order._id);
  } catch (error) {
    if (error instanceof PaymentUnavailableError) return fail(deps, order, 'payment_failed', 'payment_unavailable');
    // Unknown outcome: the order stays pending at `charging`; recovery asks the provider.
    if (error instanceof PaymentTimeoutError) {
      deps.logger.warn({ orderId: order._id, err: error }, 'payment outcome unknown; recovery will ask the provider');
      return mustFind(deps, order._id);
    }
    throw error;
  }
}

/** Resolves an order left at `charging` by asking the provider (recovery only). */
export async function resolveCharge(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  const known = await deps.payments.lookup(order._id);
  if (known && (known.status === 'captured' || known.status === 'refunded')) {
    return (await updateOrderIf(deps, order._id, 'pending', { step: 'committing', payment: { chargeId: known.chargeId, status: 'captured' } }, { step: 'charging' })) ?? mustFind(deps, order._id);
  }
  // Never charged, or declined: void so a late capture cannot happen, then fail.
  await deps.payments.refundOrVoid(order._id);
  return fail(deps, order, 'payment_failed', known?.status === 'declined' ? 'payment_declined' : 'payment_timeout');
}

async function commitHolds(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  await deps.checkpoint?.('committing');
  for (const line of order.lines) {
    if (!line.holdId) continue;
    if ((await deps.clients.commitHold(line.holdId)) === 'ended') {
      // The hold expired between re-validation and commit: give the money back.
      await deps.payments.refundOrVoid(order._id);
      return fail(deps, order, 'cancelled', 'hold_lost');
    }
  }
  await deps.checkpoint?.('committed');
  // `paid` and the outbox entry in one single-document update.
  const paid = await updateOrderIf(deps, order._id, 'pending', { status: 'paid', step: 'done', outbox: { state: 'pending', sentAt: null }, outboxPending: true }, { step: 'committing' });
  if (paid) {
    deps.onOutcome?.('paid');
    await deps.checkpoint?.('paid');
  }
  return paid ?? mustFind(deps, order._id);
}

async function clearCart(deps: CheckoutDeps, order: OrderDoc): Promise<OrderDoc> {
  try {
    await deps.clients.clearCart(order.cartId, order.cartLineIds);
  } catch (error) {
    // The order stands; recovery removes the lines later.
    deps.logger.warn({ orderId: order._id, err: error }, 'cart not emptied yet');
    return order;
  }
  return (await updateOrderIf(deps, order._id, ['paid', 'fulfilling', 'shipped'], { cartCleared: true })) ?? mustFind(deps, order._id);
}

async function mustFind(deps: CheckoutDeps, id: string): Promise<OrderDoc> {
  const order = await deps.models.Order.findById(id).lean<OrderDoc>();
  if (!order) throw new Error(`order ${id} vanished`);
  return order;
}

/** What the shopper hears about an order after a checkout attempt. */
export function outcomeError(order: OrderDoc): AppError | null {
  if (order.status === 'payment_failed' && order.reason === 'payment_unavailable') return paymentUnavailable();
  if (order.status === 'payment_failed') {
    return new AppError(402, order.reason ?? 'payment_failed', 'Payment failed', { detail: 'the payment was not accepted; nothing was charged and the items were released. Use a new Idempotency-Key to try again', extra: { orderId: order._id } });
  }
  if (order.status === 'cancelled' && order.reason === 'hold_lost') return conflict('hold_expired', 'a reserved item expired before the order completed; the payment was refunded', { orderId: order._id });
  return null;
}
