import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { connectMongo, connectRedis, createRedis, loadConfig, type Clock, type Redis } from '../../services/kit/index.js';
import { customersConfigShape } from '../../services/customers/config.js';
import { createCustomersModels, type CustomersModels } from '../../services/customers/models.js';
import { createCustomersApp, type CustomersApp } from '../../services/customers/app.js';
import type { PasswordHasher } from '../../services/customers/domain/passwords.js';
import { TEST_CUSTOMER_TOKEN_SECRET, testObservability, testServers } from '../helpers/env.js';

export interface CustomersUnderTest extends CustomersApp {
  models: CustomersModels;
  connection: Connection;
  redis: Redis;
  close(): Promise<void>;
}

/**
 * A customers app (not listening) on the test FerretDB and Redis. Replicas of
 * one test share `dbName` and `limiterPrefix`, as replicas share MongoDB and Redis.
 */
export async function startCustomers(options: { dbName: string; limiterPrefix?: string; cartUrl?: string; checkoutUrl?: string; clock?: Clock; env?: Record<string, string>; passwords?: PasswordHasher }): Promise<CustomersUnderTest> {
  const { mongoUri, redisUrl } = testServers();
  const config = loadConfig(customersConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0',
    MONGODB_URI: mongoUri, REDIS_URL: redisUrl, CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET,
    CART_URL: options.cartUrl ?? 'http://127.0.0.1:9', CHECKOUT_URL: options.checkoutUrl ?? 'http://127.0.0.1:9',
    CUSTOMERS_CALL_TIMEOUT_MS: '1000', CUSTOMERS_SCRYPT_LOG_N: '12', ...options.env,
  });
  const { logger, metrics, health } = testObservability('customers');
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 2_000 });
  const redis = await connectRedis(createRedis(redisUrl, logger));
  const models = await createCustomersModels(connection);
  const app = createCustomersApp({ config, logger, metrics, health, models, redis, clock: options.clock, limiterPrefix: options.limiterPrefix ?? options.dbName, passwords: options.passwords });
  return {
    ...app, models, connection, redis,
    async close() {
      await app.clients.close();
      health.close();
      await redis.quit();
      await connection.close();
    },
  };
}

/** Serves a Koa app on an ephemeral loopback port (for services other services call). */
export async function listen(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
