import { closeQueue, connectMongo, connectRedis, createLogger, createMetrics, createRedis, Health, loadConfigOrExit, serveWithConfig } from '../kit/index.js';
import { supportConfigShape } from './config.js';
import { createSupportModels } from './models.js';
import { addSupportChecks, createSupportApp } from './app.js';

const config = loadConfigOrExit(supportConfigShape);
const logger = createLogger({ service: 'support', level: config.LOG_LEVEL });
const metrics = createMetrics('support');
const health = new Health();

const connection = await connectMongo(config.MONGODB_URI, { logger, serverSelectionTimeoutMs: 2_000 });
const redis = await connectRedis(createRedis(config, logger));
// A subscribed connection can do nothing else, and must wait through blips rather than fail.
const subscriber = await connectRedis(createRedis(config, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
const models = await createSupportModels(connection);
addSupportChecks(health, connection, redis);

const { app, cache, queue, relay, resend, clients } = createSupportApp({ config, logger, metrics, health, models, redis, subscriber });
await cache.start();
relay.start();
resend.start();

await serveWithConfig(config, {
  app,
  logger,
  health,
  closers: [
    { name: 'outbox relay', close: () => relay.stop() },
    { name: 'outbox resend', close: () => resend.stop() },
    { name: 'faq cache', close: () => cache.stop() },
    { name: 'mail queue', close: () => closeQueue(queue) },
    { name: 'http clients', close: () => clients.close() },
    { name: 'redis', close: () => Promise.all([redis.quit(), subscriber.quit()]) },
    { name: 'mongo', close: () => connection.close() },
  ],
});
