import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { createKoaApp, pingMongo, pingRedis, SharedCache, type Health, type Logger, type Metrics, type Redis } from '../kit/index.js';
import type { CatalogConfig } from './config.js';
import type { CatalogModels } from './models.js';
import { cacheControlOf, createCatalogRouter } from './routes.js';
import { catalogFastPath } from './fast-path.js';
import { catalogApiDoc } from './openapi.js';
import { createAvailabilitySource, isLimitedProduct, type AvailabilitySource } from './availability.js';
import { CatalogIndex } from './catalog-index.js';

export interface CatalogDeps {
  config: CatalogConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: CatalogModels;
  redis: Redis;
  /** A dedicated connection for cache invalidation messages. */
  subscriber: Redis;
  /** Redis namespace of the cache; tests use one per file. */
  cacheName?: string;
  /** Defaults to inventory at INVENTORY_URL when it and INVENTORY_TOKEN are set, else none. */
  availability?: AvailabilitySource;
}

export interface CatalogApp {
  app: Koa;
  cache: SharedCache<unknown>;
  /** main.ts closes it; undefined when no inventory is configured. */
  availability: AvailabilitySource | undefined;
  /** The in-memory list index; main.ts starts and stops it. Undefined with CATALOG_INDEX=off. */
  index: CatalogIndex | undefined;
}

/** Builds the catalog's Koa app and its cache from dependencies; no listening, no connecting. */
export function createCatalogApp(deps: CatalogDeps): CatalogApp {
  const { config, logger, metrics, health } = deps;
  const cache = new SharedCache<unknown>({
    name: deps.cacheName ?? 'catalog',
    redis: deps.redis,
    subscriber: deps.subscriber,
    logger: logger.child({ module: 'cache' }),
    metrics,
    freshMs: config.CATALOG_CACHE_FRESH_MS,
    revalidateMs: config.CATALOG_CACHE_REVALIDATE_MS,
    staleIfErrorMs: config.CATALOG_CACHE_STALE_IF_ERROR_MS,
    maxEntries: config.CATALOG_CACHE_MAX_ENTRIES,
  });
  const availability =
    deps.availability ??
    (config.INVENTORY_URL && config.INVENTORY_TOKEN
      ? createAvailabilitySource({ inventoryUrl: config.INVENTORY_URL, token: config.INVENTORY_TOKEN, ttlMs: config.CATALOG_AVAILABILITY_TTL_MS, timeoutMs: config.CATALOG_AVAILABILITY_TIMEOUT_MS, logger: logger.child({ module: 'availability' }), metrics })
      : undefined);
  const app = createKoaApp({
    logger,
    metrics,
    health,
    bodyLimit: config.BODY_LIMIT,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS },
    fastPath: catalogFastPath(cache, cacheControlOf(config), availability ? isLimitedProduct : undefined),
    cors: config,
    edge: { config, redis: deps.redis },
  });
  const index =
    config.CATALOG_INDEX === 'on'
      ? new CatalogIndex({ models: deps.models, redis: deps.redis, subscriber: deps.subscriber, name: deps.cacheName ?? 'catalog', logger: logger.child({ module: 'index' }), metrics, refreshMs: config.CATALOG_INDEX_REFRESH_MS, checkMs: config.CATALOG_INDEX_CHECK_MS })
      : undefined;
  // Reported in /readyz, never making the replica unready: until it is loaded, the database answers.
  if (index) {
    health.addCheck('index', async () => {
      if (!index.loaded) throw new Error('not loaded yet, pages come from the database');
    }, { critical: false });
  }
  const router = createCatalogRouter({ config, models: deps.models, cache, availability, index });
  catalogApiDoc().serve(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, cache, availability, index };
}

/**
 * Browsing must survive a database blip by serving stale entries, so neither
 * store makes the catalog unready; /readyz still reports them as degraded.
 */
export function addCatalogChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => pingMongo(connection), { critical: false });
  health.addCheck('redis', () => pingRedis(redis), { critical: false });
}
