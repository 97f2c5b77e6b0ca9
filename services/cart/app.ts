import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { createKoaApp, customerTokenKey, createLocker, createSweeper, pingMongo, pingRedis, systemClock, type Clock, type Health, type Logger, type Metrics, type Redis, type Sweeper } from '../kit/index.js';
import { createClients, type Clients } from './clients.js';
import type { CartConfig } from './config.js';
import type { CartModels } from './models.js';
import type { CartDeps } from './domain/context.js';
import { createSoldOutMemo } from './domain/sold-out.js';
import { sweepCarts } from './domain/sweep.js';
import { createOwedReleases } from './domain/owed-releases.js';
import { createCartCache } from './domain/cart-cache.js';

import { createCartRouter } from './routes.js';
import { cartApiDoc } from './openapi.js';

export interface CartAppDeps {
  config: CartConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: CartModels;
  /** Per-cart write locks. */
  redis: Redis;
  lockPrefix?: string;
  clock?: Clock;
  /** Defaults to HTTP clients for CATALOG_URL and INVENTORY_URL. */
  clients?: Clients;
}

export interface CartApp {
  app: Koa;
  /** Expired-cart sweeper; main.ts starts and stops it, tests call runOnce. */
  sweeper: Sweeper;
  /** Retries hold releases inventory could not take at once (owed-releases.ts); started and stopped like the sweeper. */
  releaseRetry: Sweeper;
  clients: Clients;
  deps: CartDeps;
}

/** Builds the cart app, its clients and its sweeper from dependencies; nothing listens or starts here. */
export function createCartApp(input: CartAppDeps): CartApp {
  const { config, logger, metrics, health } = input;
  const clients =
    input.clients ??
    createClients({ catalogUrl: config.CATALOG_URL, inventoryUrl: config.INVENTORY_URL, inventoryToken: config.INVENTORY_TOKEN, timeoutMs: config.CART_CALL_TIMEOUT_MS, productCacheMs: config.CART_PRODUCT_CACHE_MS, logger, metrics });
  const clock = input.clock ?? systemClock;
  const releases = createOwedReleases({
    redis: input.redis,
    releaseHold: (id) => clients.releaseHold(id),
    clock,
    logger: logger.child({ module: 'owed-releases' }),
    metrics,
    key: input.lockPrefix ? `${input.lockPrefix}:owed-releases` : 'cart:owed-releases',
    giveUpAfterMs: config.CART_HOLD_TTL_S * 1_000,
  });
  const deps: CartDeps = {
    config,
    models: input.models,
    cache: createCartCache(input.redis, { prefix: input.lockPrefix ? `${input.lockPrefix}:copy` : 'cart:copy', ttlMs: config.CART_CACHE_TTL_S * 1_000, metrics }),
    clients,
    clock,
    soldOut: createSoldOutMemo(clock, config.CART_SOLD_OUT_MEMO_MS),
    releases,
    // Renewed while a slow section runs (a loaded machine, inventory retrying): a lease that ran out let a
    // second writer in and made the first one's save fail.
    lock: createLocker(input.redis, { prefix: input.lockPrefix ?? 'lock:cart', ttlMs: 10_000, waitMs: 5_000, maxHoldMs: 30_000 }),
  };
  const customerKey = customerTokenKey(config.CUSTOMER_TOKEN_SECRET);
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, cors: config, edge: { config, redis: input.redis, customerKey } });
  const router = createCartRouter({ ...deps, customerKey, redis: input.redis, internalToken: config.INVENTORY_TOKEN });
  cartApiDoc().serve(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  const sweeper = createSweeper({ name: 'carts', intervalMs: config.CART_SWEEP_INTERVAL_MS, logger: logger.child({ module: 'sweeper' }), metrics, run: () => sweepCarts(deps) });
  const releaseRetry = createSweeper({ name: 'owed-releases', intervalMs: 1_000, logger: logger.child({ module: 'owed-releases' }), metrics, run: () => releases.retryDue() });
  return { app, sweeper, releaseRetry, clients, deps };
}

/** Carts live in MongoDB and are locked in Redis; catalog and inventory are not readiness checks (a non-limited add works without inventory). */
export function addCartChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => pingMongo(connection));
  health.addCheck('redis', () => pingRedis(redis));
}
