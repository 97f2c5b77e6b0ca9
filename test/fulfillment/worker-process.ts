/**
 * A fulfillment worker as a process of its own, for test/fulfillment/worker-kill.test.ts
 * (which SIGKILLs it mid-job). Reads the fulfillment service's settings from the
 * environment, plus MONGO_DB (the shipments database). Prints `active <jobId>` when a
 * job starts and `completed <jobId>` when one ends.
 */
import { connectMongo, createLogger, createMetrics, createQueue, Health, loadConfig } from '../../services/kit/index.js';
import { fulfillmentConfigShape } from '../../services/fulfillment/config.js';
import { createFulfillmentModels } from '../../services/fulfillment/models.js';
import { createFulfillmentApp, type FulfillmentJob } from '../../services/fulfillment/app.js';

const config = loadConfig(fulfillmentConfigShape, process.env);
const logger = createLogger({ service: 'fulfillment-worker', level: 'silent' });
const metrics = createMetrics('fulfillment');
const connection = await connectMongo(config.MONGODB_URI, { logger, dbName: process.env.MONGO_DB, serverSelectionTimeoutMs: 2_000 });
const models = await createFulfillmentModels(connection);
const queue = createQueue<FulfillmentJob>({ name: 'fulfillment', redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger, metrics, lockDurationMs: config.FULFILLMENT_LOCK_MS });
queue.on('active', (job) => process.stdout.write(`active ${String(job.id)}\n`));
queue.on('completed', (job) => process.stdout.write(`completed ${String(job.id)}\n`));
const fulfillment = createFulfillmentApp({ config, logger, metrics, health: new Health(), models, queue });
fulfillment.startWorker();
process.stdout.write('ready\n');
