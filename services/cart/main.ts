import { connectMongo, connectRedis, createLogger, createMetrics, createRedis, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { cartConfigShape } from './config.js';
import { createCartModels } from './models.js';
import { addCartChecks, createCartApp } from './app.js';

const config = loadConfigOrExit(cartConfigShape);
const logger = createLogger({ service: 'cart', level: config.LOG_LEVEL });
const metrics = createMetrics('cart');
const health = new Health();

const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
const models = await createCartModels(connection);
addCartChecks(health, connection, redis);

const { app, sweeper, releaseRetry, clients } = createCartApp({ config, logger, metrics, health, models, redis });
sweeper.start();
releaseRetry.start();

await serveWithConfig(config, {
  app,
  logger,
  health,
  closers: [
    { name: 'sweeper', close: () => sweeper.stop() },
    { name: 'owed releases', close: () => releaseRetry.stop() },
    { name: 'http clients', close: () => clients.close() },
    { name: 'redis', close: () => redis.quit() },
    { name: 'mongo', close: () => connection.close() },
  ],
});
