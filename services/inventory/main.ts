import { connectMongo, connectRedis, createLogger, createRedis, createMetrics, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { inventoryConfigShape } from './config.js';
import { createInventoryModels } from './models.js';
import { addInventoryChecks, createInventoryApp } from './app.js';

const config = loadConfigOrExit(inventoryConfigShape);
const logger = createLogger({ service: 'inventory', level: config.LOG_LEVEL });
const metrics = createMetrics('inventory');
const health = new Health();

// State lives in MongoDB; Redis only holds short per-SKU write locks.
const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
const models = await createInventoryModels(connection);
addInventoryChecks(health, connection, redis);

const { app, sweeps } = createInventoryApp({ config, logger, metrics, health, models, redis });
sweeps.start();

await serveWithConfig(config, {
  app,
  logger,
  health,
  closers: [
    // Stop claiming before Mongo goes away; a pass in progress finishes (and anything it leaves is recovered by any replica).
    { name: 'sweepers', close: () => sweeps.stop() },
    { name: 'redis', close: () => redis.quit() },
    { name: 'mongo', close: () => connection.close() },
  ],
});
