import { connectMongo, connectRedis, createRedis, loadConfig, type Clock, type Redis } from '../../services/kit/index.js';
import { cartConfigShape } from '../../services/cart/config.js';
import { createCartModels, type CartModels } from '../../services/cart/models.js';
import { createCartApp, type CartApp } from '../../services/cart/app.js';
import { customerTokenKey, signCustomerToken } from '../../services/kit/index.js';
import { TEST_CUSTOMER_TOKEN_SECRET, TEST_INTERNAL_TOKEN, testObservability, testServers } from '../helpers/env.js';
import type { Connection } from 'mongoose';
import { startCatalog, type CatalogUnderTest } from '../helpers/catalog.js';
import { startInventory, type InventoryUnderTest } from '../inventory/helpers.js';

export interface CartUnderTest extends CartApp {
  models: CartModels;
  connection: Connection;
  redis: Redis;
  /** A customer token as the sign-in service would issue it. */
  customerToken(customerId: string): string;
  close(): Promise<void>;
}

/** A cart app (not listening) on the test FerretDB and Redis, calling a real catalog and inventory. */
export async function startCart(options: { dbName: string; catalogUrl: string; inventoryUrl: string; clock: Clock; env?: Record<string, string> }): Promise<CartUnderTest> {
  const { mongoUri, redisUrl } = testServers();
  const config = loadConfig(cartConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0',
    MONGODB_URI: mongoUri, REDIS_URL: redisUrl, INVENTORY_TOKEN: TEST_INTERNAL_TOKEN, CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET, CATALOG_URL: options.catalogUrl, INVENTORY_URL: options.inventoryUrl, CART_CALL_TIMEOUT_MS: '1000', CART_PRODUCT_CACHE_MS: '0', ...options.env,
  });
  const { logger, metrics, health } = testObservability('cart');
  // monitorCommands: tests count the finds a request sends (cart-cache.test.ts).
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 2_000, monitorCommands: true });
  const redis = await connectRedis(createRedis(redisUrl, logger));
  const models = await createCartModels(connection);
  const cart = createCartApp({ config, logger, metrics, health, models, redis, clock: options.clock, lockPrefix: `lock:${options.dbName}` });
  const key = customerTokenKey(config.CUSTOMER_TOKEN_SECRET);
  return {
    ...cart, models, connection, redis,
    customerToken: (customerId) => signCustomerToken(key, customerId, options.clock.now() + 3_600_000 * 24 * 365),
    async close() {
      await cart.sweeper.stop();
      await cart.releaseRetry.stop();
      await cart.clients.close();
      health.close();
      await redis.quit();
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}

export interface CartStack {
  catalog: CatalogUnderTest;
  inv: InventoryUnderTest;
  cart: CartUnderTest;
  close(): Promise<void>;
}

/**
 * A real catalog and inventory (listening on loopback) and a cart calling them,
 * each with its own database derived from `dbName`, all on one test clock.
 */
export async function startCartStack(options: { dbName: string; clock: Clock; env?: Record<string, string> }): Promise<CartStack> {
  const catalog = await startCatalog({ dbName: `${options.dbName}_cat` });
  const inv = await startInventory({ dbName: `${options.dbName}_inv`, clock: options.clock, listen: true });
  const cart = await startCart({ dbName: options.dbName, catalogUrl: catalog.url, inventoryUrl: inv.url, clock: options.clock, env: options.env });
  return {
    catalog,
    inv,
    cart,
    async close() {
      await cart.close();
      await inv.close();
      await catalog.close();
    },
  };
}
