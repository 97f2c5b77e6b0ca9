import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { z } from 'zod';
import { AppError, badRequest, clientIp, consumeOrReject, customerSessionOf, requireTokenDigest, unauthorized, validate, type Redis } from '../../kit/index.js';
import type { ShopperCredentials, SupportClients } from '../clients.js';
import { addMessage, adminListSchema, adminListTickets, findTicket, listOwnTickets, messageInputSchema, openTicket, setTicketStatus, statusInputSchema, ticketIdSchema, ticketInputSchema, toTicketView, type TicketDeps } from '../domain/tickets.js';

export interface TicketRouteDeps extends TicketDeps {
  clients: SupportClients;
  redis: Redis;
  customerKey: Buffer;
  /** SHA-256 of the admin token (support only verifies it). */
  adminDigest: Buffer;
  /** Ticket creations per client (RateLimiterRedis: shared by replicas). */
  createLimiter: RateLimiterAbstract;
}

interface Shopper {
  ownerKey: string;
  isCustomer: boolean;
  credentials: ShopperCredentials;
}

const cartTokenHeader = z.object({ 'x-cart-token': z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a cart token') });

/**
 * Client key for the creation limit: the address the kit's edge protection
 * resolved (trusted proxies only, read from the right), not Koa's `ctx.ip`,
 * whose leftmost X-Forwarded-For entry a client writes itself.
 */
const clientOf = (ctx: Context) => clientIp(ctx) || 'unknown';

export function createTicketRouter(deps: TicketRouteDeps): Router {
  const router = new Router({ prefix: '/api/support' });
  const admin = requireTokenDigest(deps.adminDigest);

  /** A customer (Bearer customer token) or a guest (X-Cart-Token); tickets belong to that identity. */
  async function shopperOf(ctx: Context): Promise<Shopper> {
    const session = await customerSessionOf(ctx, { key: deps.customerKey, redis: deps.redis, nowMs: deps.clock.now() });
    if (session) return { ownerKey: `c:${session.customerId}`, isCustomer: true, credentials: { bearer: session.token } };
    if (!ctx.get('x-cart-token')) throw unauthorized('Sign in (Authorization: Bearer <customer token>) or, as a guest, send your X-Cart-Token');
    const cartToken = validate(cartTokenHeader, { 'x-cart-token': ctx.get('x-cart-token') }, 'header')['x-cart-token'];
    return { ownerKey: `g:${createHash('sha256').update(cartToken).digest('base64url')}`, isCustomer: false, credentials: { cartToken } };
  }
  router.use(async function noStore(ctx, next) {
    await next();
    ctx.set('cache-control', 'no-store');
  });

  router.post('/tickets', async (ctx) => {
    const input = validate(ticketInputSchema, ctx.request.body, 'body');
    const shopper = await shopperOf(ctx);
    if (!shopper.isCustomer && !input.email) throw badRequest('body.email is required for guests', [{ field: 'body.email', message: 'is required without a customer token' }]);
    await consumeOrReject(deps.createLimiter, clientOf(ctx), 'Too many tickets from this client; try again later');
    if (input.orderId && !(await deps.clients.ownsOrder(input.orderId, shopper.credentials))) {
      throw new AppError(422, 'unknown_order', 'Unprocessable request', { detail: `order ${input.orderId} is not one of yours`, fields: [{ field: 'body.orderId', message: 'is not an order of yours' }] });
    }
    const ticket = await openTicket(deps, shopper.ownerKey, input);
    ctx.set('location', `/api/support/tickets/${ticket.id}`);
    ctx.status = 201;
    ctx.body = ticket;
  });
  router.get('/tickets', async (ctx) => {
    ctx.body = await listOwnTickets(deps, (await shopperOf(ctx)).ownerKey);
  });
  router.get('/tickets/:id', async (ctx) => {
    const { id } = validate(ticketIdSchema, ctx.params, 'params');
    ctx.body = toTicketView(await findTicket(deps, id, (await shopperOf(ctx)).ownerKey));
  });
  router.post('/tickets/:id/messages', async (ctx) => {
    const { id } = validate(ticketIdSchema, ctx.params, 'params');
    const { message } = validate(messageInputSchema, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = await addMessage(deps, id, 'shopper', message, (await shopperOf(ctx)).ownerKey);
  });

  router.get('/admin/tickets', admin, async (ctx) => {
    ctx.body = await adminListTickets(deps, validate(adminListSchema, ctx.query, 'query'));
  });
  router.get('/admin/tickets/:id', admin, async (ctx) => {
    const { id } = validate(ticketIdSchema, ctx.params, 'params');
    ctx.body = toTicketView(await findTicket(deps, id));
  });
  router.post('/admin/tickets/:id/replies', admin, async (ctx) => {
    const { id } = validate(ticketIdSchema, ctx.params, 'params');
    const { message } = validate(messageInputSchema, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = await addMessage(deps, id, 'support', message);
  });
  router.patch('/admin/tickets/:id', admin, async (ctx) => {
    const { id } = validate(ticketIdSchema, ctx.params, 'params');
    const { status } = validate(statusInputSchema, ctx.request.body, 'body');
    ctx.body = await setTicketStatus(deps, id, status);
  });
  return router;
}
