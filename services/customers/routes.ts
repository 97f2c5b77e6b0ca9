import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { clientIp, customerSessionOf, unauthorized, validate, type Clock, type CustomerSession, type Redis } from '../kit/index.js';
import type { CustomersClients } from './clients.js';
import { getCustomer, refreshSession, signIn, signOut, signUp, type AccountDeps } from './domain/accounts.js';

const email = z.string().trim().max(254).email('must be an email address');
// 8..128 characters; the upper bound keeps one scrypt call bounded, not the password weak.
const password = z.string().min(8, 'must be at least 8 characters').max(128);
export const signUpBody = z.object({ email, password, name: z.string().trim().min(1).max(120).optional() }).strict();
export const signInBody = z.object({ email, password: z.string().min(1).max(128) }).strict();
export const ordersQuery = z.object({ cursor: z.string().regex(/^[A-Za-z0-9_.:=-]{1,200}$/, 'must be a cursor from nextCursor').optional(), limit: z.coerce.number().int().min(1).max(100).optional() }).strict();
const cartTokenHeader = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a cart token');

export interface CustomersRouteDeps extends AccountDeps {
  clients: CustomersClients;
  redis: Redis;
  clock: Clock;
}

/**
 * The client a failure is counted against: the address the kit's edge
 * protection resolved (X-Forwarded-For believed only from trusted proxies, read
 * from the right), never Koa's `ctx.ip`, whose leftmost entry a client writes
 * itself and could change on every attempt for a fresh budget.
 */
const clientOf = (ctx: Context) => clientIp(ctx) || 'unknown';

export function createCustomersRouter(deps: CustomersRouteDeps): Router {
  const router = new Router({ prefix: '/api/customers' });
  const session = async (ctx: Context): Promise<CustomerSession> => {
    const found = await customerSessionOf(ctx, { key: deps.customerKey, redis: deps.redis, nowMs: deps.clock.now() });
    if (!found) throw unauthorized('Sign in first: Authorization: Bearer <customer token>');
    return found;
  };
  router.use(async function noStore(ctx, next) {
    await next();
    ctx.set('cache-control', 'no-store');
  });

  router.post('/', async (ctx) => {
    const body = validate(signUpBody, ctx.request.body, 'body');
    const customer = await signUp(deps, body, clientOf(ctx));
    ctx.set('location', '/api/customers/me');
    ctx.status = 201;
    ctx.body = customer;
  });

  router.post('/sessions', async (ctx) => {
    const body = validate(signInBody, ctx.request.body, 'body');
    const rawCartToken = ctx.get('x-cart-token');
    const cartToken = rawCartToken ? validate(cartTokenHeader, rawCartToken, 'header') : undefined;
    const issued = await signIn(deps, body, clientOf(ctx));
    const merge = cartToken ? await deps.clients.mergeCart(issued.token, cartToken) : undefined;
    ctx.status = 201;
    ctx.body = { ...issued, ...(merge ? { cartMerge: merge.status, ...(merge.cart ? { cart: merge.cart } : {}) } : {}) };
  });

  router.post('/sessions/refresh', async (ctx) => {
    ctx.status = 201;
    ctx.body = await refreshSession(deps, await session(ctx));
  });

  router.delete('/sessions/current', async (ctx) => {
    await signOut(deps, await session(ctx));
    ctx.status = 204;
  });

  router.get('/me', async (ctx) => {
    ctx.body = await getCustomer(deps, (await session(ctx)).customerId);
  });

  router.get('/me/orders', async (ctx) => {
    const current = await session(ctx);
    const query = validate(ordersQuery, ctx.query, 'query');
    ctx.body = await deps.clients.listOrders(current.token, query);
  });

  return router;
}
