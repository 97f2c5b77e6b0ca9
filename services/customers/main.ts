import { connectMongo, connectRedis, createLogger, createMetrics, createRedis, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { customersConfigShape } from './config.js';
import { createCustomersModels } from './models.js';
import { addCustomersChecks, createCustomersApp } from './app.js';

const config = loadConfigOrExit(customersConfigShape);
const logger = createLogger({ service: 'customers', level: config.LOG_LEVEL });
const metrics = createMetrics('customers');
const health = new Health();

const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
const models = await createCustomersModels(connection);
addCustomersChecks(health, connection, redis);

const { app, clients } = createCustomersApp({ config, logger, metrics, health, models, redis });

await serveWithConfig(config, {
  app,
  logger,
  health,
  closers: [
    { name: 'http clients', close: () => clients.close() },
    { name: 'redis', close: () => redis.quit() },
    { name: 'mongo', close: () => connection.close() },
  ],
});
