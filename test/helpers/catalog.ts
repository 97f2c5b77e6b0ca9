import type { AddressInfo } from 'node:net';
import http from 'node:http';
import type { Connection } from 'mongoose';
import { connectMongo, connectRedis, createRedis, loadConfig, type Health } from '../../services/kit/index.js';
import { catalogConfigShape } from '../../services/catalog/config.js';
import { createCatalogModels, type CatalogModels } from '../../services/catalog/models.js';
import { addCatalogChecks, createCatalogApp } from '../../services/catalog/app.js';
import type { Product } from '../../services/catalog/domain/products.js';
import type { ProductInput } from '../../services/catalog/domain/schemas.js';
import { TEST_ADMIN_TOKEN, testObservability, testServers } from './env.js';

export type { Product } from '../../services/catalog/domain/products.js';

export interface CatalogUnderTest {
  /** Base URL of a real catalog listening on an ephemeral loopback port. */
  url: string;
  adminToken: string;
  app: ReturnType<typeof createCatalogApp>['app'];
  models: CatalogModels;
  cache: ReturnType<typeof createCatalogApp>['cache'];
  /** The in-memory list index (undefined with CATALOG_INDEX=off). */
  index: ReturnType<typeof createCatalogApp>['index'];
  connection: Connection;
  health: Health;
  /** Creates a product through the admin API. */
  createProduct(input: Partial<ProductInput> & Pick<ProductInput, 'sku' | 'slug' | 'name' | 'price'>): Promise<Product>;
  close(): Promise<void>;
}

/** Counts `find` commands a service sends to its database (connected with `monitorCommands`), on `collection` only if given. */
export function countFinds(service: Pick<CatalogUnderTest, 'connection'>, collection?: string): { count: () => number } {
  let finds = 0;
  service.connection.getClient().on('commandStarted', (event) => {
    if (event.commandName === 'find' && (!collection || event.command.find === collection)) finds += 1;
  });
  return { count: () => finds };
}

/**
 * A real catalog (its own database and cache namespace, the test FerretDB and
 * Redis) for tests of services that call it. Cache freshness can be shortened.
 */
export async function startCatalog(options: { dbName: string; env?: Record<string, string>; mongoUri?: string }): Promise<CatalogUnderTest> {
  const servers = testServers();
  const redisUrl = servers.redisUrl;
  const mongoUri = options.mongoUri ?? servers.mongoUri;
  const config = loadConfig(catalogConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0', MONGODB_URI: mongoUri, REDIS_URL: redisUrl, ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...options.env });
  const { logger, metrics, health } = testObservability('catalog');
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 1_000, monitorCommands: true });
  const redis = await connectRedis(createRedis(redisUrl, logger));
  const subscriber = await connectRedis(createRedis(redisUrl, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
  const models = await createCatalogModels(connection);
  const { app, cache, availability, index } = createCatalogApp({ config, logger, metrics, health, models, redis, subscriber, cacheName: options.dbName });
  addCatalogChecks(health, connection, redis);
  await cache.start();
  await index?.start();
  await index?.ready();
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    adminToken: TEST_ADMIN_TOKEN,
    app,
    models,
    cache,
    index,
    connection,
    health,
    async createProduct(input) {
      const response = await fetch(`${url}/api/catalog/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify(input),
      });
      if (response.status !== 201) throw new Error(`createProduct: ${response.status} ${await response.text()}`);
      return (await response.json()) as Product;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cache.stop();
      await index?.stop();
      await availability?.close();
      health.close();
      await Promise.all([redis.quit(), subscriber.quit()]);
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}
