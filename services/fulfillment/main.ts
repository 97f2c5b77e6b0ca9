import type { Connection } from 'mongoose';
import { closeQueue, connectMongo, createLogger, createMetrics, createQueue, Health, loadConfigOrExit, pingMongo, serveWithConfig, withTimeout } from '../kit/index.js';
import { fulfillmentConfigShape } from './config.js';
import { createFulfillmentModels } from './models.js';
import { createFulfillmentApp, type FulfillmentJob } from './app.js';

const config = loadConfigOrExit(fulfillmentConfigShape);
const logger = createLogger({ service: 'fulfillment', level: config.LOG_LEVEL });
const metrics = createMetrics('fulfillment');
const health = new Health();

const connection: Connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const models = await createFulfillmentModels(connection);
const queue = createQueue<FulfillmentJob>({
  name: 'fulfillment', redisUrl: config.REDIS_URL, redis: config, prefix: config.QUEUE_PREFIX, logger, metrics,
  limiter: { max: config.FULFILLMENT_RATE_MAX, duration: config.FULFILLMENT_RATE_WINDOW_MS },
  lockDurationMs: config.FULFILLMENT_LOCK_MS,
});
health.addCheck('mongo', () => pingMongo(connection));
health.addCheck('redis', async () => void (await withTimeout(queue.client.ping(), 1_000, 'redis ping')));

const fulfillment = createFulfillmentApp({ config, logger, metrics, health, models, queue });
fulfillment.startWorker();

await serveWithConfig(config, {
  app: fulfillment.app,
  logger,
  health,
  closers: [
    // Waits for running jobs to finish; a job cut off here is picked up again as stalled.
    { name: 'queue', close: () => closeQueue(queue) },
    { name: 'http clients', close: () => fulfillment.close() },
    { name: 'mongo', close: () => connection.close() },
  ],
});
