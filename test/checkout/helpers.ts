import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import { closeQueue, connectMongo, connectRedis, createQueue, createRedis, loadConfig, type Clock, type Queue, type Redis } from '../../services/kit/index.js';
import { checkoutConfigShape } from '../../services/checkout/config.js';
import { createCheckoutModels, type CheckoutModels } from '../../services/checkout/models.js';
import { createCheckoutApp, type CheckoutApp } from '../../services/checkout/app.js';
import { createSimulatedProvider, type PaymentKnobs } from '../../services/checkout/domain/payments.js';
import type { FulfillmentJob } from '../../services/checkout/domain/outbox.js';
import type { CrashPoint } from '../../services/checkout/domain/checkout.js';
import type { OrderDoc } from '../../services/checkout/models.js';
import { fulfillmentConfigShape } from '../../services/fulfillment/config.js';
import { createFulfillmentModels, type FulfillmentModels } from '../../services/fulfillment/models.js';
import { createFulfillmentApp, type FulfillmentApp } from '../../services/fulfillment/app.js';
import { startCartStack, type CartStack } from '../cart/helpers.js';
import { admin, inventoryCalls } from '../inventory/helpers.js';
import { TEST_ADMIN_TOKEN_SHA256, TEST_CUSTOMER_TOKEN_SECRET, TEST_INTERNAL_TOKEN, testObservability, testServers } from '../helpers/env.js';

async function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CheckoutStack extends CartStack {
  checkout: CheckoutApp;
  checkoutUrl: string;
  /** The cart, listening (checkout, customers and support call it over HTTP). */
  cartUrl: string;
  models: CheckoutModels;
  connection: Connection;
  redis: Redis;
  /** The simulated provider's knobs, changed by tests. */
  knobs: PaymentKnobs;
  queue: Queue<FulfillmentJob>;
  fulfillment: FulfillmentApp;
  shipments: FulfillmentModels;
  close(): Promise<void>;
}

/**
 * Catalog, inventory and cart (cart listening, as checkout calls it over HTTP),
 * checkout with a simulated provider the test steers, and a fulfillment app on
 * the same queue (its worker is not started unless the test starts it). Each
 * part has its own database and Redis key prefix.
 */
export async function startCheckoutStack(options: { dbName: string; clock: Clock; env?: Record<string, string>; redisUrl?: string; fulfillmentEnv?: Record<string, string> }): Promise<CheckoutStack> {
  // Every test shopper comes from 127.0.0.1, so the guest per-client cap (test/cart/guest-policy.test.ts) would count them as one.
  const stack = await startCartStack({ dbName: `${options.dbName}_c`, clock: options.clock, env: { CART_LIMITED_MAX_PER_CLIENT: '100000' } });
  const cartServer = await listen(stack.cart.app.callback());
  const { mongoUri } = testServers();
  // Checkout's locks and the fulfillment queue; a test that stops Redis passes its own server here (cart and inventory keep the shared one).
  const redisUrl = options.redisUrl ?? testServers().redisUrl;
  const config = loadConfig(checkoutConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0',
    MONGODB_URI: mongoUri, REDIS_URL: redisUrl, ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET, CART_URL: cartServer.url, INVENTORY_URL: stack.inv.url, QUEUE_PREFIX: `q_${options.dbName}`,
    // The provider's deadline must not be what a busy machine trips over (the timeout tests make the provider silent instead).
    CHECKOUT_STUCK_AFTER_MS: '1000', PAYMENT_TIMEOUT_MS: '1500', ...options.env,
  });
  const { logger, metrics, health } = testObservability('checkout');
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 2_000 });
  const redis = await connectRedis(createRedis(redisUrl, logger));
  const models = await createCheckoutModels(connection);
  const queue = createQueue<FulfillmentJob>({ name: 'fulfillment', redisUrl, prefix: config.QUEUE_PREFIX, logger, metrics, lockDurationMs: 2_000 });
  const knobs: PaymentKnobs = { latencyMs: 5, declineRate: 0, timeoutRate: 0, outage: false };
  const payments = createSimulatedProvider({ models, knobs, timeoutMs: config.PAYMENT_TIMEOUT_MS });
  const checkout = createCheckoutApp({ config, logger, metrics, health, connection, models, redis, queue, payments, clock: options.clock, lockPrefix: `lock:${options.dbName}` });
  const checkoutServer = await listen(checkout.app.callback());

  const fConfig = loadConfig(fulfillmentConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0', MONGODB_URI: mongoUri, REDIS_URL: redisUrl, ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256, INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, CHECKOUT_URL: checkoutServer.url, QUEUE_PREFIX: config.QUEUE_PREFIX, CARRIER_SIM_LATENCY_MS: '1', ...options.fulfillmentEnv });
  const fObs = testObservability('fulfillment');
  const fConnection = await connectMongo(mongoUri, { logger: fObs.logger, dbName: `${options.dbName}_f`, serverSelectionTimeoutMs: 2_000 });
  const shipments = await createFulfillmentModels(fConnection);
  const fulfillment = createFulfillmentApp({ config: fConfig, ...fObs, models: shipments, queue });
  return {
    ...stack, checkout, checkoutUrl: checkoutServer.url, cartUrl: cartServer.url, models, connection, redis, knobs, queue, fulfillment, shipments,
    async close() {
      await Promise.all(Object.values(checkout.sweepers).map((sweeper) => sweeper.stop()));
      checkout.close();
      // A queue that does not close in time must not keep the rest (and the test process) open.
      await closeQueue(queue, 3_000).catch(() => undefined);
      await fulfillment.close();
      await checkoutServer.close();
      await checkout.clients.close();
      health.close();
      fObs.health.close();
      await redis.quit();
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
      await fConnection.dropDatabase().catch(() => undefined);
      await fConnection.close();
      await cartServer.close();
      await stack.close();
    },
  };
}

export const ADDRESS = { name: 'Ada Lovelace', line1: '1 Analytical Way', city: 'London', postalCode: 'N1 9GU', country: 'GB' };
export const BODY = { email: 'ada@example.com', shippingAddress: ADDRESS };

/** What recovery makes of an order whose flow stopped after each step: before the charge it fails, after it the order is paid. */
export const CRASH_EXPECT: Record<CrashPoint, 'paid' | 'payment_failed'> = {
  created: 'payment_failed', charging: 'payment_failed', charged: 'paid', committing: 'paid', committed: 'paid', paid: 'paid',
};

/**
 * The state an order stopped at `point` must be in once recovered (crash.test.ts, crash-kill.test.ts):
 * the expected status, at most one capture, the hold committed (paid) or released (kept by the cart
 * when the flow stopped before the charge), the cart emptied, the outbox entry waiting, and the stock
 * invariant intact.
 */
export async function assertRecovered(s: CheckoutStack, order: OrderDoc, point: CrashPoint): Promise<void> {
  const { api: invApi } = inventoryCalls(() => s.inv);
  assert.equal(order.status, CRASH_EXPECT[point], `${order.status} ${order.reason}`);
  // The provider's capture ledger: one document per capture it performed (a double capture shows there).
  const captured = await s.models.PaymentCapture.find({ orderId: order._id }).lean();
  const hold = (await invApi().get(`/api/inventory/holds/${order.lines[0]?.holdId}`).set(admin)).body;
  if (order.status === 'paid') {
    assert.equal(captured.length, 1);
    assert.equal(hold.state, 'committed');
    assert.equal(order.cartCleared, true);
    assert.equal(order.outbox.state, 'pending');
  } else {
    assert.equal(captured.length, 0);
    assert.equal(hold.state, point === 'created' ? 'active' : 'released');
  }
  const check = await invApi().get('/api/inventory/check').set(admin);
  assert.equal(check.status, 200);
  assert.equal(check.body.ok, true, JSON.stringify(check.body));
}
