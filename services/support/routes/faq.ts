import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, notFound, requireTokenDigest, validate, type CacheResult, type Clock, type SharedCache } from '../../kit/index.js';
import type { SupportModels } from '../models.js';
import { createFaq, deleteFaq, faqIdSchema, faqInputSchema, faqQuerySchema, getFaq, listFaq, updateFaq } from '../domain/faq.js';

export interface FaqRouteDeps {
  models: SupportModels;
  cache: SharedCache<unknown>;
  clock: Clock;
  /** SHA-256 of the admin token (support only verifies it). */
  adminDigest: Buffer;
  /** `Cache-Control` of public reads. */
  cacheControl: string;
}

/** Like the catalog's cached reads: ETag and 304, Cache-Control with stale-while-revalidate and stale-if-error, X-Cache. */
function sendCached(ctx: Context, result: CacheResult<unknown>, cacheControl: string): void {
  ctx.set('cache-control', cacheControl);
  ctx.set('x-cache', result.state);
  if (result.ageMs >= 1000) ctx.set('age', String(Math.floor(result.ageMs / 1000)));
  ctx.etag = result.etag;
  ctx.status = 200;
  if (ctx.get('if-none-match') && ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.set('content-type', 'application/json; charset=utf-8');
  ctx.body = result.json;
}

/** Reads through the cache; a database failure with nothing stale to serve is a 503 with Retry-After, not a 500. */
async function cached(cache: SharedCache<unknown>, key: string, load: () => Promise<unknown>): Promise<CacheResult<unknown>> {
  try {
    return await cache.get(key, load);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError(503, 'faq_unavailable', 'Service unavailable', { detail: 'the FAQ cannot be read right now', headers: { 'retry-after': '5' }, cause: error });
  }
}

/** `GET /api/support/faq[?q=&tag=]`, `GET /api/support/faq/:id`; admin POST, PUT, DELETE invalidate the cache on every replica. */
export function createFaqRouter(deps: FaqRouteDeps): Router {
  const { models, cache, clock } = deps;
  const router = new Router({ prefix: '/api/support/faq' });
  const admin = requireTokenDigest(deps.adminDigest);
  const written = async (ctx: Context, status: number, body?: unknown) => {
    await cache.invalidateAll();
    ctx.set('cache-control', 'no-store');
    ctx.status = status;
    if (body !== undefined) ctx.body = body;
  };

  router.get('/', async (ctx) => {
    const query = validate(faqQuerySchema, ctx.query, 'query');
    const result = await cached(cache, `l:${JSON.stringify([query.q?.toLowerCase() ?? '', query.tag ?? ''])}`, () => listFaq(models, query));
    sendCached(ctx, result, deps.cacheControl);
  });
  router.get('/:id', async (ctx) => {
    const { id } = validate(faqIdSchema, ctx.params, 'params');
    const result = await cached(cache, `e:${id}`, () => getFaq(models, id));
    if (result.value === null) throw notFound(`FAQ entry ${id} does not exist`);
    sendCached(ctx, result, deps.cacheControl);
  });

  router.post('/', admin, async (ctx) => {
    const entry = await createFaq(models, clock, validate(faqInputSchema, ctx.request.body, 'body'));
    ctx.set('location', `/api/support/faq/${entry.id}`);
    await written(ctx, 201, entry);
  });
  router.put('/:id', admin, async (ctx) => {
    const { id } = validate(faqIdSchema, ctx.params, 'params');
    await written(ctx, 200, await updateFaq(models, clock, id, validate(faqInputSchema, ctx.request.body, 'body')));
  });
  router.delete('/:id', admin, async (ctx) => {
    const { id } = validate(faqIdSchema, ctx.params, 'params');
    await deleteFaq(models, id);
    await written(ctx, 204);
  });
  return router;
}
