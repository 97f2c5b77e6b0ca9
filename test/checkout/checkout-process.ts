/**
 * A checkout service as a process of its own, for test/checkout/crash-kill.test.ts:
 * built like services/checkout/main.ts (same app, real Mongo, Redis, queue and the
 * simulated provider whose ledger is in Mongo), but on the test's database
 * (MONGO_DB) and lock prefix (LOCK_PREFIX), and it SIGKILLs itself when the flow
 * reaches CRASH_AT: no `finally`, no lock release, no answer, as a real crash.
 * Prints `listening <url>` when it serves.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectMongo, connectRedis, createLogger, createMetrics, createQueue, createRedis, Health, loadConfig } from '../../services/kit/index.js';
import { checkoutConfigShape } from '../../services/checkout/config.js';
import { createCheckoutModels } from '../../services/checkout/models.js';
import { createCheckoutApp } from '../../services/checkout/app.js';
import type { FulfillmentJob } from '../../services/checkout/domain/outbox.js';

const config = loadConfig(checkoutConfigShape, process.env);
const logger = createLogger({ service: 'checkout-crash', level: 'silent' });
const metrics = createMetrics('checkout');
const connection = await connectMongo(config.MONGODB_URI, { logger, dbName: process.env.MONGO_DB, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config.REDIS_URL, logger));
const models = await createCheckoutModels(connection);
const queue = createQueue<FulfillmentJob>({ name: 'fulfillment', redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, logger, metrics });
const checkout = createCheckoutApp({ config, logger, metrics, health: new Health(), connection, models, redis, queue, lockPrefix: process.env.LOCK_PREFIX });
const crashAt = process.env.CRASH_AT;
checkout.hooks.checkpoint = (point) => {
  if (point === crashAt) process.kill(process.pid, 'SIGKILL');
};
const server = http.createServer(checkout.app.callback());
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
