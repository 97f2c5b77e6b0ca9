import { connectMongo, connectRedis, createLogger, createMetrics, createRedis, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { catalogConfigShape } from './config.js';
import { createCatalogModels } from './models.js';
import { addCatalogChecks, createCatalogApp } from './app.js';

const config = loadConfigOrExit(catalogConfigShape);
const logger = createLogger({ service: 'catalog', level: config.LOG_LEVEL });
const metrics = createMetrics('catalog');
const health = new Health();

const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
const subscriber = await connectRedis(createRedis(config, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
const models = await createCatalogModels(connection);

addCatalogChecks(health, connection, redis);

const { app, cache, availability, index } = createCatalogApp({ config, logger, metrics, health, models, redis, subscriber });
await cache.start();
await index?.start();

await serveWithConfig(config, {
  app,
  logger,
  health,
  closers: [
    { name: 'cache', close: () => cache.stop() },
    { name: 'index', close: () => index?.stop() ?? Promise.resolve() },
    { name: 'availability', close: () => availability?.close() ?? Promise.resolve() },
    { name: 'redis', close: () => Promise.all([redis.quit(), subscriber.quit()]) },
    { name: 'mongo', close: () => connection.close() },
  ],
});
