import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { createHash, timingSafeEqual } from 'node:crypto';
import { badRequest, bearerToken, clientIp, createIdempotencyStore, idempotency, isIdempotencyKey, refuseRevokedCustomerTokens, requireAdmin, unauthorized, validate, verifyCustomerToken, type IdempotencyStore, type Redis } from '../kit/index.js';
import type { Product } from './clients.js';
import type { CartDoc } from './models.js';
import type { CartDeps } from './domain/context.js';
import { cartIdOf, createCart, mutateCart, refreshHolds, resolveCart, toView, type Caller } from './domain/carts.js';
import { addLine, precheckSoldOut, removeLine, setLineQuantity } from './domain/lines.js';
import { mergeCarts } from './domain/merge.js';


export const quantity = z.number().int('must be a whole number').min(1).max(100_000);
export const addBody = z.object({ productId: z.string().regex(/^[a-z0-9-]{1,120}$/, 'must be a product id or slug'), quantity: quantity.default(1) }).strict();
export const setBody = z.object({ quantity }).strict();
export const lineParams = z.object({ lineId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be a line id') }).strict();
export const cartTokenHeader = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a cart token');

/**
 * The client a guest's `per_client` cap counts (issue 9, item 7): the client
 * address as the edge protection resolved it (X-Forwarded-For read only from
 * trusted proxies, from the right), never Koa's `ctx.ip`, which takes the
 * leftmost entry a client can write itself. The address, not the rate
 * limiter's cart-token key: every new guest cart has a new token.
 */
export function clientKeyOf(ctx: Context): string {
  // Inventory owners allow letters, digits, colon, dash and underscore: 10.0.0.1 becomes 10_0_0_1.
  return clientIp(ctx).replace(/[^A-Za-z0-9:_-]/g, '_').slice(0, 64) || 'unknown';
}

export const internalCartParams = z.object({ cartId: z.string().regex(/^[ac]-[A-Za-z0-9_-]{1,120}$/, 'must be a cart id') }).strict();
export const checkedOutBody = z.object({ lineIds: z.array(lineParams.shape.lineId).max(1_000) }).strict();
export const holdsReleasedBody = z.object({ holdIds: z.array(z.string().min(1).max(200)).max(1_000) }).strict();

export interface CartRouteDeps extends CartDeps {
  customerKey: Buffer;
  /** Where signed-out customer tokens are listed (kit/customer-session.ts). */
  redis: Redis;
  /** Credential of checkout's internal calls (`X-Internal-Token` or Bearer). */
  internalToken: string;
}

/**
 * Issue 9 item 6: cart writes accept an optional `Idempotency-Key` (the kit's
 * mechanism, as checkout's), scoped to the caller's credentials, so a client
 * that retries after a timeout adds once. Expired keys are swept lazily by the
 * writes themselves (at most once a minute per replica).
 */
/** The request's Idempotency-Key (the middleware validated it), scoped like the middleware's record. */
const opKeyOf = (ctx: Context) => (ctx.get('idempotency-key') ? `${idempotencyScope(ctx)}:${ctx.get('idempotency-key')}` : undefined);
const idempotencyScope = (ctx: Context) => createHash('sha256').update(`${ctx.get('authorization')}\n${ctx.get('x-cart-token')}`).digest('base64url').slice(0, 22);

function cartIdempotency(deps: CartRouteDeps) {
  const store = createIdempotencyStore(deps.models.Cart.db, { collection: 'cart_idempotency_keys' });
  let lastSweep = 0;
  const middleware = idempotency({ store, required: false, scopeOf: idempotencyScope });
  return {
    store,
    middleware: async function cartIdempotencyMiddleware(ctx: Context, next: () => Promise<unknown>) {
      if (Date.now() - lastSweep > 60_000) {
        lastSweep = Date.now();
        void store.sweep().catch(() => undefined);
      }
      return middleware(ctx, next);
    },
  };
}

interface AddRequest {
  cartId: string;
  body: z.infer<typeof addBody>;
}
const addRequestOf = (ctx: Context) => ctx.state.add as AddRequest;

/**
 * An add is parsed once (customer token, cart token, body; 401/400/404 as
 * before), ahead of the sold-out answer and the idempotency record: both need
 * it, and neither may skip auth or validation.
 */
function parseAdd(deps: CartRouteDeps) {
  return async function parseAddMiddleware(ctx: Context, next: () => Promise<unknown>) {
    const caller = callerOf(ctx, deps);
    const body = validate(addBody, ctx.request.body, 'body');
    ctx.state.add = { cartId: cartIdOf(caller), body } satisfies AddRequest;
    return next();
  };
}

/**
 * A doorbuster that just sold out is answered here, after the edge protection,
 * auth and validation and before the idempotency record (two database writes)
 * and the handler (docs/carts.md, "Doorbusters"). A request whose
 * Idempotency-Key already has a record goes on: the middleware replays its
 * answer, or the cart finds the key applied. The 409 is routine: counted in the
 * metrics, logged only as sampled.
 */
function soldOutFirst(deps: CartRouteDeps, store: IdempotencyStore) {
  return async function soldOutFirstMiddleware(ctx: Context, next: () => Promise<unknown>) {
    const { body } = addRequestOf(ctx);
    const precheck = await precheckSoldOut(deps, body.productId, body.quantity);
    if (!precheck) return next();
    if ('probe' in precheck) {
      try {
        await next();
      } catch (error) {
        precheck.probe(error);
        throw error;
      }
      return precheck.probe();
    }
    const key = ctx.get('idempotency-key');
    if (key && (!isIdempotencyKey(key) || (await store.seen(`${idempotencyScope(ctx)}:${key}`)))) return next();
    ctx.state.routine = true;
    throw precheck.soldOut;
  };
}

/**
 * A request names its cart with `X-Cart-Token` (anonymous) or
 * `Authorization: Bearer <customer token>` (signed in). A bad customer token is
 * a 401; a malformed cart token a 400.
 */
function callerOf(ctx: Context, deps: CartRouteDeps): Caller {
  const caller: Caller = {};
  const bearer = bearerToken(ctx);
  if (bearer) {
    const customerId = verifyCustomerToken(deps.customerKey, bearer, deps.clock.now());
    if (!customerId) throw unauthorized('The customer token is invalid or expired');
    caller.customerId = customerId;
  }
  const token = ctx.get('x-cart-token');
  if (token) caller.cartToken = validate(cartTokenHeader, token, 'header');
  return caller;
}

export function createCartRouter(deps: CartRouteDeps): Router {
  const router = new Router({ prefix: '/api/cart' });
  // callerOf verifies the token offline; a signed-out (revoked) one is refused here, for every route.
  router.use(refuseRevokedCustomerTokens(deps.redis));
  const { store: idempotencyStore, middleware: idem } = cartIdempotency(deps);
  /** Answers with the cart, its holds refreshed; `saved` is the cart this request just wrote, `known` products it just fetched. */
  const answer = async (ctx: Context, cartId: string, status = 200, saved?: CartDoc, known?: Product[]) => {
    const { cart, notices } = await refreshHolds(deps, cartId, saved);
    ctx.set('cache-control', 'no-store');
    ctx.status = status;
    ctx.body = await toView(deps, cart, notices, known);
  };

  router.post('/carts', async (ctx) => {
    const caller = callerOf(ctx, deps);
    const { cart, token, created } = await createCart(deps, caller.customerId ?? null);
    ctx.set('cache-control', 'no-store');
    ctx.status = created ? 201 : 200;
    ctx.body = { ...(token ? { token } : {}), cart: await toView(deps, cart) };
  });

  router.get('/cart', async (ctx) => {
    const cart = await resolveCart(deps, callerOf(ctx, deps));
    await answer(ctx, cart._id);
  });

  router.delete('/cart', idem, async (ctx) => {
    const cart = await resolveCart(deps, callerOf(ctx, deps));
    for (const line of cart.lines) await removeLine(deps, cart._id, line.id);
    await answer(ctx, cart._id);
  });

  router.post('/cart/lines', parseAdd(deps), soldOutFirst(deps, idempotencyStore), idem, async (ctx) => {
    const { cartId, body } = addRequestOf(ctx);
    const added = await addLine(deps, cartId, body.productId, body.quantity, clientKeyOf(ctx), opKeyOf(ctx));
    await answer(ctx, cartId, 201, added.cart, [added.product]);
  });

  router.patch('/cart/lines/:lineId', idem, async (ctx) => {
    const caller = callerOf(ctx, deps);
    const { lineId } = validate(lineParams, ctx.params, 'params');
    const body = validate(setBody, ctx.request.body, 'body');
    const cart = await resolveCart(deps, caller);
    await answer(ctx, cart._id, 200, await setLineQuantity(deps, cart._id, lineId, body.quantity, clientKeyOf(ctx), opKeyOf(ctx)));
  });

  router.delete('/cart/lines/:lineId', idem, async (ctx) => {
    const caller = callerOf(ctx, deps);
    const { lineId } = validate(lineParams, ctx.params, 'params');
    const cart = await resolveCart(deps, caller);
    await answer(ctx, cart._id, 200, await removeLine(deps, cart._id, lineId, opKeyOf(ctx)));
  });

  router.post('/cart/merge', async (ctx) => {
    const caller = callerOf(ctx, deps);
    if (!caller.customerId) throw unauthorized('Merging needs the signed-in customer token');
    if (!caller.cartToken) throw badRequest('X-Cart-Token names the guest cart to merge', [{ field: 'header.x-cart-token', message: 'is required' }]);
    const { cart, notices } = await mergeCarts(deps, caller.customerId, caller.cartToken);
    const refreshed = await refreshHolds(deps, cart._id);
    ctx.set('cache-control', 'no-store');
    ctx.body = await toView(deps, refreshed.cart, [...notices, ...refreshed.notices]);
  });

  addCheckoutRoutes(router, deps);
  return router;
}

/**
 * Checkout's internal calls (docs/checkout.md): the cart with its hold ids and
 * version, read with the shopper's credentials; emptying the ordered lines
 * (their holds stay committed, so nothing is released); and marking holds that
 * checkout released, so the owner's next view reserves again.
 */
function addCheckoutRoutes(router: Router, deps: CartRouteDeps): void {
  const admin = requireAdmin(deps.internalToken);
  const expected = createHash('sha256').update(deps.internalToken).digest();
  // The shopper's Authorization header names the cart here, so the internal credential comes in its own header.
  const viaHeader = async (ctx: Context, next: () => Promise<unknown>) => {
    const given = createHash('sha256').update(ctx.get('x-internal-token')).digest();
    if (!ctx.get('x-internal-token') || !timingSafeEqual(given, expected)) throw unauthorized();
    return next();
  };

  router.get('/internal/checkout-view', viaHeader, async (ctx) => {
    const cart = await resolveCart(deps, callerOf(ctx, deps));
    const refreshed = await refreshHolds(deps, cart._id);
    const view = await toView(deps, refreshed.cart, refreshed.notices);
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      id: refreshed.cart._id, version: refreshed.cart.version, customerId: refreshed.cart.customerId,
      lines: view.lines.map((line, i) => ({
        id: line.id, productId: line.productId, sku: line.sku, name: line.name, quantity: line.quantity, limited: line.limited,
        currentUnitPrice: line.currentUnitPrice, holdId: refreshed.cart.lines[i]?.hold?.id ?? null, holdStatus: line.hold?.status ?? null,
      })),
    };
  });

  router.post('/internal/carts/:cartId/checked-out', admin, async (ctx) => {
    const { cartId } = validate(internalCartParams, ctx.params, 'params');
    const { lineIds } = validate(checkedOutBody, ctx.request.body, 'body');
    const cart = await deps.models.Cart.findById(cartId).lean<CartDoc>();
    if (cart?.lines.some((line) => lineIds.includes(line.id))) {
      await mutateCart(deps, cartId, async (current) => {
        current.lines = current.lines.filter((line) => !lineIds.includes(line.id));
      });
    }
    ctx.body = { cartId, cleared: lineIds.length };
  });

  router.post('/internal/carts/:cartId/holds-released', admin, async (ctx) => {
    const { cartId } = validate(internalCartParams, ctx.params, 'params');
    const { holdIds } = validate(holdsReleasedBody, ctx.request.body, 'body');
    const cart = await deps.models.Cart.findById(cartId).lean<CartDoc>();
    if (cart?.lines.some((line) => line.hold && holdIds.includes(line.hold.id) && line.hold.status !== 'lost')) {
      await mutateCart(deps, cartId, async (current) => {
        for (const line of current.lines) if (line.hold && holdIds.includes(line.hold.id)) line.hold = { ...line.hold, status: 'lost' };
      });
    }
    ctx.body = { cartId, released: holdIds.length };
  });
}
