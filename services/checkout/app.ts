import type Koa from 'koa';
import type { Connection } from 'mongoose';
import {
  adminTokenDigest, createIdempotencyStore, createKoaApp, createLocker, createSweeper, customerTokenKey, pingMongo, pingRedis, systemClock,
  type Clock, type Health, type Logger, type Metrics, type Queue, type Redis, type Sweeper,
} from '../kit/index.js';
import { createCheckoutClients, type CheckoutClients } from './clients.js';
import type { CheckoutConfig } from './config.js';
import type { CheckoutModels } from './models.js';
import { CHECKOUT_OUTCOMES, type CheckoutDeps } from './domain/checkout.js';
import { relayOutbox, resendLostJobs, type FulfillmentJob } from './domain/outbox.js';
import { createSimulatedProvider, type PaymentAdapter, type PaymentKnobs } from './domain/payments.js';
import { countStuckOrders, recoverOrders } from './domain/recovery.js';
import { createCheckoutRouter } from './routes.js';
import { checkoutApiDoc } from './openapi.js';

export interface CheckoutAppDeps {
  config: CheckoutConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  connection: Connection;
  models: CheckoutModels;
  redis: Redis;
  /** The `fulfillment` Bull queue the outbox relay publishes to. */
  queue: Queue<FulfillmentJob>;
  lockPrefix?: string;
  clock?: Clock;
  clients?: CheckoutClients;
  payments?: PaymentAdapter;
}

export interface CheckoutApp {
  app: Koa;
  /** Recovery, outbox relay, resend of lost fulfillment jobs and idempotency-key sweep; main.ts starts and stops them. */
  sweepers: { recovery: Sweeper; outbox: Sweeper; resend: Sweeper; keys: Sweeper };
  clients: CheckoutClients;
  deps: CheckoutDeps;
  /** Tests set `checkpoint` to stop the flow where a crash would. */
  hooks: { checkpoint?: CheckoutDeps['checkpoint'] };
  /** Stops the outage-flag poll. */
  close(): void;
}

const OUTAGE_KEY = 'payment-sim:outage';

/** Builds the checkout app, its clients, payment adapter and background jobs; nothing listens or starts here. */
export function createCheckoutApp(input: CheckoutAppDeps): CheckoutApp {
  const { config, logger, metrics, health, models, redis } = input;
  const clock = input.clock ?? systemClock;
  const internalToken = config.INTERNAL_TOKEN;
  const clients = input.clients ?? createCheckoutClients({ cartUrl: config.CART_URL, inventoryUrl: config.INVENTORY_URL, internalToken, timeoutMs: config.CHECKOUT_CALL_TIMEOUT_MS, logger, metrics });
  // The outage switch is shared by every replica through Redis, polled; the env var is the starting value.
  const knobs: PaymentKnobs = { latencyMs: config.PAYMENT_SIM_LATENCY_MS, declineRate: config.PAYMENT_SIM_DECLINE_RATE, timeoutRate: config.PAYMENT_SIM_TIMEOUT_RATE, outage: config.PAYMENT_SIM_OUTAGE };
  const prefix = input.lockPrefix ?? 'lock:checkout';
  const outageKey = `${prefix}:${OUTAGE_KEY}`;
  const poll = setInterval(() => void redis.get(outageKey).then((value) => (knobs.outage = value === null ? knobs.outage : value === '1'), () => undefined), 500);
  poll.unref();
  const payments = input.payments ?? createSimulatedProvider({ models, knobs, timeoutMs: config.PAYMENT_TIMEOUT_MS });
  const hooks: CheckoutApp['hooks'] = {};
  // Every outcome is a series from the start, so rate() over it is defined before the first order.
  const orders = metrics.counter('checkout_orders_total', 'Checkouts by outcome: paid, payment_failed, cancelled (a hold ended before its commit)', ['outcome']);
  for (const outcome of CHECKOUT_OUTCOMES) orders.inc({ outcome }, 0);
  const stuck = metrics.gauge('checkout_orders_stuck', `Orders begun over CHECKOUT_STUCK_ALERT_AFTER_MS (${config.CHECKOUT_STUCK_ALERT_AFTER_MS} ms) ago and still pending or not compensated; set by each recovery pass`);
  const deps: CheckoutDeps = {
    models, clock, clients, payments, logger: logger.child({ module: 'checkout' }),
    checkpoint: (point) => hooks.checkpoint?.(point),
    onOutcome: (outcome) => orders.inc({ outcome }),
    lock: createLocker(redis, { prefix: `${prefix}:order`, ttlMs: 10_000, waitMs: 5_000 }),
    // Held for the whole flow (renewed up to a provider call plus every hold commit); a holder
    // that dies, or loses its release to a Redis restart, blocks the order for 6 s at most.
    flowLock: createLocker(redis, { prefix: `${prefix}:flow`, ttlMs: 6_000, maxHoldMs: config.PAYMENT_TIMEOUT_MS + 30_000, waitMs: 8_000 }),
  };
  const idempotencyStore = createIdempotencyStore(input.connection, { ttlMs: config.IDEMPOTENCY_TTL_S * 1_000, now: () => clock.now() });
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, cors: config, edge: { config, redis } });
  const sweeperLog = logger.child({ module: 'sweeper' });
  const recovery = createSweeper({ name: 'checkout-recovery', intervalMs: config.CHECKOUT_RECOVERY_INTERVAL_MS, logger: sweeperLog, metrics, run: async () => {
    const handled = await recoverOrders(deps, { stuckAfterMs: config.CHECKOUT_STUCK_AFTER_MS });
    // What recovery could not settle: every replica counts the same orders, the alert takes the max.
    stuck.set(await countStuckOrders(deps, config.CHECKOUT_STUCK_ALERT_AFTER_MS));
    return handled;
  } });
  const outbox = createSweeper({ name: 'outbox-relay', intervalMs: config.OUTBOX_RELAY_INTERVAL_MS, logger: sweeperLog, metrics, run: () => relayOutbox({ models, queue: input.queue, logger, now: () => clock.now(), lock: deps.lock }) });
  const resend = createSweeper({
    name: 'outbox-resend', intervalMs: config.CHECKOUT_RECOVERY_INTERVAL_MS, logger: sweeperLog, metrics,
    run: () => resendLostJobs({ ...deps, queue: input.queue }, { afterMs: config.OUTBOX_RESEND_AFTER_MS }),
  });
  const keys = createSweeper({ name: 'idempotency-keys', intervalMs: 60_000, logger: sweeperLog, metrics, run: () => idempotencyStore.sweep() });
  const router = createCheckoutRouter({
    ...deps, adminDigest: adminTokenDigest(config), internalToken, customerKey: customerTokenKey(config.CUSTOMER_TOKEN_SECRET), redis, idempotencyStore,
    async setPaymentOutage(value) {
      await redis.set(outageKey, value ? '1' : '0');
      knobs.outage = value;
    },
    runRecovery: () => recovery.runOnce(),
  });
  checkoutApiDoc().serve(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, sweepers: { recovery, outbox, resend, keys }, clients, deps, hooks, close: () => clearInterval(poll) };
}

/** Orders live in MongoDB; locks and the queue in Redis. Cart and inventory are not readiness checks (orders stay readable without them). */
export function addCheckoutChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => pingMongo(connection));
  health.addCheck('redis', () => pingRedis(redis));
}
