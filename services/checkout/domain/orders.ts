/**
 * Orders: the state machine, guarded transitions, views and lists.
 *
 *   pending ──► paid ──► fulfilling ──► shipped
 *      │          │          │
 *      │          └──────────┴──► cancelled   (admin: refund, stock back)
 *      ├──► payment_failed                    (declined, provider down, unknown after a timeout and voided)
 *      └──► cancelled                         (a hold ended before it was committed: refunded)
 *
 * Every transition is one conditional update on the order (guard: the status
 * it leaves), under a per-order lock because FerretDB's conditional updates
 * are not atomic (kit/lock.ts); on MongoDB the guard alone suffices.
 */
import { conflict, updateByIdIf, type Clock, type WithLock } from '../../kit/index.js';
import type { CheckoutModels, OrderDoc, OrderStatus } from '../models.js';

const NEXT: Record<OrderStatus, OrderStatus[]> = {
  pending: ['paid', 'payment_failed', 'cancelled'],
  paid: ['fulfilling', 'shipped', 'cancelled'],
  fulfilling: ['shipped', 'cancelled'],
  shipped: [],
  payment_failed: [],
  cancelled: [],
};

export const canMove = (from: OrderStatus, to: OrderStatus) => NEXT[from].includes(to);

export interface OrderDeps {
  models: CheckoutModels;
  clock: Clock;
  /** Per-order lock (Redis). */
  lock: WithLock;
}

const ordersIn = (models: CheckoutModels) => models.Order;

/** Updates the order if it is still in `from` (and matches `guard`); null when it is not. */
export async function updateOrderIf(deps: OrderDeps, id: string, from: OrderStatus | OrderStatus[], set: Partial<OrderDoc>, guard: Record<string, unknown> = {}): Promise<OrderDoc | null> {
  const status = Array.isArray(from) ? { $in: from } : from;
  return deps.lock(id, () => updateByIdIf(ordersIn(deps.models), id, { status, ...guard }, { $set: { ...set, updatedAt: new Date(deps.clock.now()) } }));
}

/** Moves the order to `to` if the state machine allows it from where it is; 409 `invalid_transition` otherwise. */
export async function transition(deps: OrderDeps, id: string, to: OrderStatus, set: Partial<OrderDoc> = {}): Promise<OrderDoc> {
  const order = await deps.models.Order.findById(id).lean<OrderDoc>();
  if (!order) throw conflict('unknown_order', `no order ${id}`);
  if (order.status === to) return order;
  if (!canMove(order.status, to)) throw conflict('invalid_transition', `an order that is ${order.status} cannot become ${to}`, { from: order.status, to });
  const moved = await updateOrderIf(deps, id, order.status, { ...set, status: to });
  if (!moved) return transition(deps, id, to, set);
  return moved;
}

export interface OrderView {
  id: string;
  status: OrderStatus;
  reason: string | null;
  email: string;
  customerId: string | null;
  shippingAddress: OrderDoc['shippingAddress'];
  lines: Array<Omit<OrderDoc['lines'][number], 'holdId'> & { lineTotal: OrderDoc['total'] }>;
  total: OrderDoc['total'];
  createdAt: string;
  updatedAt: string;
}

export function toOrderView(order: OrderDoc): OrderView {
  return {
    id: order._id, status: order.status, reason: order.reason ?? null, email: order.email, customerId: order.customerId ?? null,
    shippingAddress: order.shippingAddress,
    lines: order.lines.map((line) => ({
      productId: line.productId, sku: line.sku, name: line.name, unitPrice: line.unitPrice, quantity: line.quantity,
      lineTotal: { amount: line.unitPrice.amount * line.quantity, currency: line.unitPrice.currency },
    })),
    total: order.total, createdAt: order.createdAt.toISOString(), updatedAt: order.updatedAt.toISOString(),
  };
}

export interface ListFilter {
  status?: OrderStatus;
  customerId?: string;
  email?: string;
  cursor?: string;
  limit: number;
}

/** A page of orders, newest first; the cursor is the last order's `createdAt` and id. */
export async function listOrders(models: CheckoutModels, filter: ListFilter): Promise<{ orders: OrderDoc[]; nextCursor: string | null }> {
  const query: Record<string, unknown> = {};
  if (filter.status) query.status = filter.status;
  if (filter.customerId) query.customerId = filter.customerId;
  if (filter.email) query.email = filter.email.toLowerCase();
  if (filter.cursor) {
    const { at, id } = decodeCursor(filter.cursor);
    query.$or = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: id } }];
  }
  const orders = await models.Order.find(query).sort({ createdAt: -1, _id: -1 }).limit(filter.limit + 1).lean<OrderDoc[]>();
  const page = orders.slice(0, filter.limit);
  const last = page[page.length - 1];
  return { orders: page, nextCursor: orders.length > filter.limit && last ? encodeCursor(last) : null };
}

const encodeCursor = (order: OrderDoc) => Buffer.from(JSON.stringify([order.createdAt.getTime(), order._id])).toString('base64url');

/** Throws a plain Error on a malformed cursor; routes validate first (see `isCursor`). */
function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
  return { at: new Date(ms), id };
}

/** True when `cursor` is one `listOrders` made. */
export function isCursor(cursor: string): boolean {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && /^o_[A-Za-z0-9_-]{1,64}$/.test(value[1]);
  } catch {
    return false;
  }
}
