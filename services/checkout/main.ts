import { closeQueue, connectMongo, connectRedis, createLogger, createMetrics, createQueue, createRedis, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { checkoutConfigShape } from './config.js';
import { createCheckoutModels } from './models.js';
import { addCheckoutChecks, createCheckoutApp } from './app.js';
import type { FulfillmentJob } from './domain/outbox.js';

const config = loadConfigOrExit(checkoutConfigShape);
const logger = createLogger({ service: 'checkout', level: config.LOG_LEVEL });
const metrics = createMetrics('checkout');
const health = new Health();

const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
const models = await createCheckoutModels(connection);
const queue = createQueue<FulfillmentJob>({ name: 'fulfillment', redisUrl: config.REDIS_URL, redis: config, prefix: config.QUEUE_PREFIX, logger, metrics });
addCheckoutChecks(health, connection, redis);

const checkout = createCheckoutApp({ config, logger, metrics, health, connection, models, redis, queue });
for (const sweeper of Object.values(checkout.sweepers)) sweeper.start();

await serveWithConfig(config, {
  app: checkout.app,
  logger,
  health,
  closers: [
    { name: 'sweepers', close: async () => void (await Promise.all(Object.values(checkout.sweepers).map((s) => s.stop()))) },
    { name: 'outage poll', close: async () => checkout.close() },
    { name: 'queue', close: () => closeQueue(queue) },
    { name: 'http clients', close: () => checkout.clients.close() },
    { name: 'redis', close: () => redis.quit() },
    { name: 'mongo', close: () => connection.close() },
  ],
});
