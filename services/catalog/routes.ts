import Router from '@koa/router';
import type { Context } from 'koa';
import { BrokenCircuitError } from 'cockatiel';
import { adminTokenDigest, AppError, isCallerError, notFound, requireTokenDigest, validate, type CacheResult, type SharedCache } from '../kit/index.js';
import type { CatalogConfig } from './config.js';
import type { CatalogModels } from './models.js';
import { withAvailability, type AvailabilitySource } from './availability.js';
import { bulkImportSchema, categoryInputSchema, idOrSlugSchema, listQuerySchema, productInputSchema, productPatchSchema } from './domain/schemas.js';
import { bulkImport, createProduct, deleteProduct, getProduct, listProducts, updateProduct, type Written } from './domain/products.js';
import { createCategory, deleteCategory, listCategories, putCategory } from './domain/categories.js';
import type { CatalogIndex } from './catalog-index.js';

export interface CatalogRouteDeps {
  config: Pick<CatalogConfig, 'ADMIN_TOKEN' | 'ADMIN_TOKEN_SHA256' | 'CATALOG_HTTP_MAX_AGE_S' | 'CATALOG_CACHE_REVALIDATE_MS' | 'CATALOG_CACHE_STALE_IF_ERROR_MS'>;
  models: CatalogModels;
  cache: SharedCache<unknown>;
  /** Availability of limited products from inventory; absent = none shown. */
  availability?: AvailabilitySource;
  /** The in-memory list index (catalog-index.ts); absent = every page from the database (CATALOG_INDEX=off). */
  index?: CatalogIndex;
}

/**
 * Answers a cached read: ETag and 304, Cache-Control with stale-while-revalidate
 * and stale-if-error for browsers and CDNs, and X-Cache saying where it came from.
 */
export function sendCached(ctx: Context, result: CacheResult<unknown>, cacheControl: string): void {
  ctx.set('cache-control', cacheControl);
  ctx.set('x-cache', result.state);
  // Age says how long the entry sat in our cache, so a CDN counts max-age from when it was loaded; 0 goes unsaid.
  if (result.ageMs >= 1000) ctx.set('age', String(Math.floor(result.ageMs / 1000)));
  ctx.etag = result.etag;
  ctx.status = 200;
  // ctx.fresh copies every response header; most requests are not conditional.
  if ((ctx.get('if-none-match') || ctx.get('if-modified-since')) && ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.set('content-type', 'application/json; charset=utf-8');
  ctx.body = result.json;
}

/** MongoDB and mongoose name their connection, selection and timeout errors `Mongo...`. */
const isDatabaseFailure = (error: unknown) => error instanceof BrokenCircuitError || /^Mongo/.test(String((error as Error | undefined)?.name));

/**
 * Reads through the cache. A database failure with nothing stale to serve is a
 * 503 carrying its cause (logged by the error middleware); a caller's error
 * keeps its 4xx, and anything else stays a 500 (a bug, not an outage).
 */
async function cached(cache: SharedCache<unknown>, key: string, load: () => Promise<unknown>): Promise<CacheResult<unknown>> {
  try {
    return await cache.get(key, load);
  } catch (error) {
    if (error instanceof AppError || isCallerError(error) || !isDatabaseFailure(error)) throw error;
    throw new AppError(503, 'catalog_unavailable', 'Service unavailable', { detail: 'the catalog database is unreachable and this item is not cached', headers: { 'retry-after': '5' }, cause: error });
  }
}

const canonical = (query: object) => JSON.stringify(Object.entries(query).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)));

/** The `Cache-Control` of cached reads, from config. */
export function cacheControlOf(config: CatalogRouteDeps['config']): string {
  const { CATALOG_HTTP_MAX_AGE_S: maxAge, CATALOG_CACHE_REVALIDATE_MS: swr, CATALOG_CACHE_STALE_IF_ERROR_MS: sie } = config;
  return `public, max-age=${maxAge}, stale-while-revalidate=${Math.round(swr / 1000)}, stale-if-error=${Math.round(sie / 1000)}`;
}

export function createCatalogRouter(deps: CatalogRouteDeps): Router {
  const { models, cache } = deps;
  const router = new Router({ prefix: '/api/catalog' });
  const admin = requireTokenDigest(adminTokenDigest(deps.config));
  const cacheControl = cacheControlOf(deps.config);
  // Availability moves fast: answers carrying it may be reused only as long as it is.
  const liveCacheControl = `public, max-age=${Math.max(1, Math.round((deps.availability?.ttlMs ?? 1_000) / 1000))}`;
  const sendWithAvailability = async (ctx: Context, result: CacheResult<unknown>) => {
    const live = await withAvailability(result, deps.availability);
    if (live) sendCached(ctx, live, liveCacheControl);
    else sendCached(ctx, result, cacheControl);
  };
  const written = async (ctx: Context, status: number, body: unknown, change?: Omit<Written<unknown>, 'result'>) => {
    // The index hears of the change before the response cache is invalidated (catalog-index.ts says why).
    if (change) await deps.index?.changed(change);
    await cache.invalidateAll();
    ctx.set('cache-control', 'no-store');
    ctx.status = status;
    if (body !== undefined) ctx.body = body;
  };

  router.get('/products', async (ctx) => {
    const query = validate(listQuerySchema, ctx.query, 'query');
    const result = await cached(cache, `l:${canonical(query)}`, async () => deps.index?.list(query) ?? listProducts(models, query));
    await sendWithAvailability(ctx, result);
  });

  router.get('/products/:idOrSlug', async (ctx) => {
    const { idOrSlug } = validate(idOrSlugSchema, ctx.params, 'params');
    const result = await cached(cache, `p:${idOrSlug}`, async () => deps.index?.get(idOrSlug) ?? getProduct(models, idOrSlug));
    if (result.value === null) throw notFound(`product ${idOrSlug} does not exist`);
    await sendWithAvailability(ctx, result);
  });

  router.get('/categories', async (ctx) => {
    const result = await cached(cache, 'c:all', async () => ({ items: await listCategories(models) }));
    sendCached(ctx, result, cacheControl);
  });

  router.post('/products/bulk', admin, async (ctx) => {
    const { products } = validate(bulkImportSchema, ctx.request.body, 'body');
    let change: Written<unknown>;
    try {
      change = await bulkImport(models, products, deps.index?.skuLookup());
    } catch (error) {
      // Unordered writes: part of the batch may have landed. Every index reads the database again, every cache entry goes.
      if (!(error instanceof AppError && error.status === 400)) {
        await deps.index?.changedUnknown();
        await cache.invalidateAll();
      }
      throw error;
    }
    await written(ctx, 200, change.result, { upserts: change.upserts });
  });
  router.post('/products', admin, async (ctx) => {
    const input = validate(productInputSchema, ctx.request.body, 'body');
    const { result: product, upserts } = await createProduct(models, input);
    ctx.set('location', `/api/catalog/products/${product.id}`);
    await written(ctx, 201, product, { upserts });
  });
  router.put('/products/:id', admin, async (ctx) => {
    const input = validate(productInputSchema, ctx.request.body, 'body');
    const { result, upserts } = await updateProduct(models, ctx.params.id ?? '', input);
    await written(ctx, 200, result, { upserts });
  });
  router.patch('/products/:id', admin, async (ctx) => {
    const input = validate(productPatchSchema, ctx.request.body, 'body');
    const { result, upserts } = await updateProduct(models, ctx.params.id ?? '', input);
    await written(ctx, 200, result, { upserts });
  });
  router.delete('/products/:id', admin, async (ctx) => {
    const id = ctx.params.id ?? '';
    await deleteProduct(models, id);
    await written(ctx, 204, undefined, { upserts: [], deletes: [id] });
  });

  router.post('/categories', admin, async (ctx) => {
    await written(ctx, 201, await createCategory(models, validate(categoryInputSchema, ctx.request.body, 'body')));
  });
  router.put('/categories/:slug', admin, async (ctx) => {
    const input = validate(categoryInputSchema, { ...(ctx.request.body as object), slug: ctx.params.slug }, 'body');
    await written(ctx, 200, await putCategory(models, input));
  });
  router.delete('/categories/:slug', admin, async (ctx) => {
    await deleteCategory(models, ctx.params.slug ?? '');
    await written(ctx, 204, undefined);
  });
  return router;
}
