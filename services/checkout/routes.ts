import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { bearerMatches, bearerToken, badRequest, idempotency, notFound, refuseRevokedCustomerTokens, requireAdmin, requireTokenDigest, unauthorized, validate, verifyCustomerToken, type IdempotencyStore, type Redis } from '../kit/index.js';
import type { OrderDoc } from './models.js';
import { cancelOrder, markFulfillment } from './domain/admin.js';
import { outcomeError, placeOrder, type CheckoutDeps } from './domain/checkout.js';
import { isCursor, listOrders, toOrderView } from './domain/orders.js';

const text = (max: number) => z.string().trim().min(1).max(max);
export const checkoutBody = z
  .object({
    email: z.string().trim().email().max(254),
    shippingAddress: z.object({ name: text(200), line1: text(200), line2: text(200).optional(), city: text(100), postalCode: text(20), country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code') }).strict(),
  })
  .strict();
export const orderParams = z.object({ id: z.string().regex(/^o_[A-Za-z0-9_-]{1,64}$/, 'must be an order id') }).strict();
export const STATUSES = ['pending', 'paid', 'fulfilling', 'shipped', 'payment_failed', 'cancelled'] as const;
export const listQuery = z
  .object({
    status: z.enum(STATUSES).optional(),
    customerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
    email: z.string().trim().email().max(254).optional(),
    cursor: z.string().max(200).refine(isCursor, 'must be a cursor from a previous page').optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
export const statusBody = z.object({ status: z.enum(['fulfilling', 'shipped']) }).strict();
export const paymentSimulatorBody = z.object({ outage: z.boolean() }).strict();
const cartTokenHeader = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a cart token');

export interface CheckoutRouteDeps extends CheckoutDeps {
  /** SHA-256 of the admin token (kit adminTokenDigest): checkout verifies it and never sends it. */
  adminDigest: Buffer;
  internalToken: string;
  customerKey: Buffer;
  /** Where signed-out customer tokens are listed (kit/customer-session.ts). */
  redis: Redis;
  idempotencyStore: IdempotencyStore;
  /** The simulated provider's runtime outage switch (admin). */
  setPaymentOutage(outage: boolean): Promise<void>;
  runRecovery(): Promise<number>;
}

type Viewer = { admin: true } | { customerId: string } | { cartTokenHash: string };

const sha = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who reads orders: the admin token, a customer token (the sign-in service's;
 * revoked ones never get here, see the router), or the guest cart token that
 * placed the order. Anything else is 401.
 */
function viewerOf(ctx: Context, deps: CheckoutRouteDeps): Viewer {
  const bearer = bearerToken(ctx);
  if (bearer && bearerMatches(ctx, deps.adminDigest)) return { admin: true };
  if (bearer) {
    const customerId = verifyCustomerToken(deps.customerKey, bearer, deps.clock.now());
    if (!customerId) throw unauthorized('The customer token is invalid or expired');
    return { customerId };
  }
  const token = ctx.get('x-cart-token');
  if (token) return { cartTokenHash: createHash('sha256').update(validate(cartTokenHeader, token, 'header')).digest('hex') };
  throw unauthorized('A customer token, the cart token that placed the order, or the admin token is required');
}

const mayRead = (viewer: Viewer, order: OrderDoc) =>
  'admin' in viewer || ('customerId' in viewer && order.customerId === viewer.customerId) || ('cartTokenHash' in viewer && order.cartTokenHash === viewer.cartTokenHash);

export function createCheckoutRouter(deps: CheckoutRouteDeps): Router {
  const router = new Router();
  // viewerOf and the cart verify customer tokens offline; a signed-out (revoked) one is refused
  // here, on every route, before an idempotent replay could answer it.
  router.use(refuseRevokedCustomerTokens(deps.redis));
  const admin = requireTokenDigest(deps.adminDigest);
  const internal = requireAdmin(deps.internalToken);
  // A key belongs to the credentials that sent it: two shoppers' equal keys never meet.
  const scopeOf = (ctx: Context) => sha(`${ctx.get('authorization')}\n${ctx.get('x-cart-token')}`).toString('base64url').slice(0, 22);

  router.post('/api/checkout', idempotency({ store: deps.idempotencyStore, required: true, scopeOf, waitMs: 8_000 }), async (ctx) => {
    const body = validate(checkoutBody, ctx.request.body, 'body');
    const cartToken = ctx.get('x-cart-token');
    if (!cartToken && !bearerToken(ctx)) throw badRequest('X-Cart-Token or a customer token names the cart', [{ field: 'header.x-cart-token', message: 'is required' }]);
    if (cartToken) validate(cartTokenHeader, cartToken, 'header');
    const key = `${scopeOf(ctx)}:${ctx.get('idempotency-key')}`;
    const order = await placeOrder(deps, { key, shopper: { cartToken: cartToken || undefined, authorization: ctx.get('authorization') || undefined }, email: body.email, shippingAddress: body.shippingAddress });
    const failure = outcomeError(order);
    if (failure) throw failure;
    ctx.set('cache-control', 'no-store');
    ctx.set('location', `/api/orders/${order._id}`);
    // Pending = the provider's answer is unknown: accepted, recovery settles it (docs/checkout.md).
    ctx.status = order.status === 'pending' ? 202 : 201;
    ctx.body = { order: toOrderView(order) };
  });

  router.get('/api/orders', async (ctx) => {
    const viewer = viewerOf(ctx, deps);
    const query = validate(listQuery, ctx.query, 'query');
    if ('cartTokenHash' in viewer) throw unauthorized('Listing orders needs a customer token');
    if (!('admin' in viewer) && (query.customerId || query.email || query.status)) throw badRequest('filters are for admins', [{ field: 'query.customerId', message: 'admin only' }]);
    const page = await listOrders(deps.models, { ...query, customerId: 'customerId' in viewer ? viewer.customerId : query.customerId });
    ctx.set('cache-control', 'no-store');
    ctx.body = { orders: page.orders.map(toOrderView), nextCursor: page.nextCursor };
  });

  router.get('/api/orders/:id', async (ctx) => {
    const viewer = viewerOf(ctx, deps);
    const { id } = validate(orderParams, ctx.params, 'params');
    const order = await deps.models.Order.findById(id).lean<OrderDoc>();
    // Someone else's order answers exactly like a missing one.
    if (!order || !mayRead(viewer, order)) throw notFound('no such order');
    ctx.set('cache-control', 'no-store');
    ctx.body = { order: toOrderView(order) };
  });

  router.post('/api/orders/:id/cancel', admin, async (ctx) => {
    const { id } = validate(orderParams, ctx.params, 'params');
    ctx.body = { order: toOrderView(await deps.flowLock(id, () => cancelOrder(deps, id))) };
  });

  router.post('/api/orders/:id/fulfillment', internal, async (ctx) => {
    const { id } = validate(orderParams, ctx.params, 'params');
    const { status } = validate(statusBody, ctx.request.body, 'body');
    ctx.body = { order: toOrderView(await markFulfillment(deps, id, status)) };
  });

  router.put('/api/checkout/admin/payment-simulator', admin, async (ctx) => {
    const { outage } = validate(paymentSimulatorBody, ctx.request.body, 'body');
    await deps.setPaymentOutage(outage);
    ctx.body = { outage };
  });

  router.post('/api/checkout/admin/recovery', admin, async (ctx) => {
    ctx.body = { recovered: await deps.runRecovery() };
  });

  return router;
}
