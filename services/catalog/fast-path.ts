import type { Context, Middleware, Next } from 'koa';
import type { SharedCache } from '../kit/index.js';
import { sendCached } from './routes.js';

const PRODUCT = /^\/api\/catalog\/products\/([a-z0-9-]{1,120})$/;

/**
 * Product pages and the category list are most of a sale day's traffic. When
 * one is fresh in this replica's cache, answer it here, before the request
 * scope, error mapping, timeout, body parsing and router: the same bytes and
 * headers the router would send, for about half the CPU (see `npm run bench`).
 * Anything else (a miss, a query string, a path the regex does not accept, a
 * 404) takes the full path, which validates and loads.
 */
export function catalogFastPath(cache: SharedCache<unknown>, cacheControl: string, skip?: (value: unknown) => boolean): Middleware {
  return function catalogFastPathMiddleware(ctx: Context, next: Next) {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.querystring) return next();
    let key: string;
    let route: string;
    if (ctx.path === '/api/catalog/categories') {
      key = 'c:all';
      route = '/api/catalog/categories';
    } else {
      const match = PRODUCT.exec(ctx.path);
      if (!match) return next();
      key = `p:${match[1]}`;
      route = '/api/catalog/products/:idOrSlug';
    }
    const hit = cache.peek(key);
    // `skip`: answers that add live data (availability of limited products) take the full path.
    if (!hit || hit.value === null || skip?.(hit.value)) return next();
    ctx.state.route = route;
    sendCached(ctx, hit, cacheControl);
    return undefined;
  };
}
