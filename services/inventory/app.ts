import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { adminTokenDigest, createKoaApp, createLocker, mongoConnected, pingRedis, requireTokenDigest, systemClock, tokenDigest, type Clock, type Health, type Logger, type Metrics, type Redis } from '../kit/index.js';
import type { InventoryConfig } from './config.js';
import type { InventoryModels } from './models.js';
import { createInventoryRouter } from './routes.js';
import { createGate } from './domain/gate.js';
import { HOLD_OUTCOMES } from './domain/holds.js';
import { createInventorySweeps, type InventorySweeps } from './sweepers.js';
import { inventoryApiDoc } from './openapi.js';

export interface InventoryDeps {
  config: InventoryConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: InventoryModels;
  /** Holds the per-SKU write locks. */
  redis: Redis;
  /** Namespace of the locks in Redis (tests use one per database). */
  lockPrefix?: string;
  /** Decides every expiry; tests pass a ManualClock. */
  clock?: Clock;
  /** Name of this replica on claims (defaults to host:pid). */
  replica?: string;
}

export interface InventoryApp {
  app: Koa;
  /** Background jobs; main.ts starts and stops them, tests run them by hand. */
  sweeps: InventorySweeps;
}

/** Builds the inventory app and its sweepers from dependencies; no listening, no connecting, nothing started. */
export function createInventoryApp(deps: InventoryDeps): InventoryApp {
  const { config, logger, metrics, health } = deps;
  const clock = deps.clock ?? systemClock;
  const replica = deps.replica ?? `${process.env.HOSTNAME ?? 'local'}:${process.pid}`;
  // A lock lost in a Redis failover is survivable: every locked section is a guarded write (docs/redis-failover.md).
  const replicaAck = { replicas: config.REDIS_LOCK_REPLICAS, timeoutMs: 100, onUnreplicated: (key: string) => logger.warn({ key }, 'stock lock not on a replica yet') };
  const lock = createLocker(deps.redis, { prefix: deps.lockPrefix ?? 'lock:stock', ttlMs: config.STOCK_LOCK_TTL_MS, waitMs: config.STOCK_LOCK_WAIT_MS, replicaAck });
  const gate = createGate(deps.redis, { prefix: `${deps.lockPrefix ?? 'lock:stock'}:gate`, ttlMs: config.STOCK_GATE_TTL_S * 1_000 });
  // Every outcome is a series from the start, so rate() over it is defined before the first hold.
  const holds = metrics.counter('inventory_holds_total', 'Holds by outcome: created (units reserved), rejected (not enough stock), released, expired, committed', ['outcome']);
  for (const outcome of HOLD_OUTCOMES) holds.inc({ outcome }, 0);
  const domain = { models: deps.models, clock, replica, lock, gate, onOutcome: (outcome: string) => holds.inc({ outcome }) };
  const sweeps = createInventorySweeps({ ...domain, config, logger, metrics });
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, edge: { config, redis: deps.redis } });
  // Both known by digest: inventory verifies these tokens and never sends them.
  const adminDigest = adminTokenDigest(config);
  const admin = requireTokenDigest(adminDigest);
  // Admins may do what services do; services never what admins do (issue 9, item 9).
  const internal = requireTokenDigest([tokenDigest(config.INTERNAL_TOKEN, config.INTERNAL_TOKEN_SHA256), adminDigest], 'A valid service or admin token is required');
  const router = createInventoryRouter({ ...domain, config, admin, internal, sweeps });
  inventoryApiDoc().serve(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, sweeps };
}

/**
 * Readiness: stock lives in MongoDB, its write locks and gate in Redis; without
 * either, inventory cannot change stock. Neither check waits behind the request
 * load: the driver's connection state for MongoDB, a cached ping for Redis.
 */
export function addInventoryChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => mongoConnected(connection));
  health.addCheck('redis', () => pingRedis(redis), { cacheMs: 1_000 });
}
