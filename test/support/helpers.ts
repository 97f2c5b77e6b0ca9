import type { Connection } from 'mongoose';
import { closeQueue, connectMongo, connectRedis, createRedis, loadConfig, type Clock, type Redis } from '../../services/kit/index.js';
import { supportConfigShape } from '../../services/support/config.js';
import { createSupportModels, type SupportModels } from '../../services/support/models.js';
import { createSupportApp, type SupportApp } from '../../services/support/app.js';
import type { Mail, Mailer } from '../../services/support/domain/outbox.js';
import { TEST_ADMIN_TOKEN_SHA256, TEST_CUSTOMER_TOKEN_SECRET, testObservability, testServers } from '../helpers/env.js';

export interface SupportUnderTest extends SupportApp {
  models: SupportModels;
  connection: Connection;
  redis: Redis;
  /** Mails the worker handed to the mailer, in order. */
  sent: Mail[];
  close(): Promise<void>;
}

/**
 * A support app (not listening) on the test FerretDB and Redis; its mailer
 * records what it sends. Replicas of one test share `dbName` and `namespace`.
 */
export async function startSupport(options: { dbName: string; namespace?: string; checkoutUrl?: string; mongoUri?: string; clock?: Clock; env?: Record<string, string>; mailer?: Mailer }): Promise<SupportUnderTest> {
  const servers = testServers();
  const mongoUri = options.mongoUri ?? servers.mongoUri;
  const config = loadConfig(supportConfigShape, {
    // These tests are about the service, not edge protection (test/edge/): every client is exempt from bot rules, limits and shedding.
    EDGE_EXEMPT_CIDRS: '0.0.0.0/0,::/0',
    MONGODB_URI: mongoUri, REDIS_URL: servers.redisUrl, ADMIN_TOKEN_SHA256: TEST_ADMIN_TOKEN_SHA256, CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET,
    CHECKOUT_URL: options.checkoutUrl ?? 'http://127.0.0.1:9', SUPPORT_CALL_TIMEOUT_MS: '1000', ...options.env,
  });
  const { logger, metrics, health } = testObservability('support');
  const connection = await connectMongo(mongoUri, { logger, dbName: options.dbName, serverSelectionTimeoutMs: 1_000 });
  const redis = await connectRedis(createRedis(servers.redisUrl, logger));
  const subscriber = await connectRedis(createRedis(servers.redisUrl, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
  const models = await createSupportModels(connection);
  const sent: Mail[] = [];
  const mailer = options.mailer ?? { send: async (mail: Mail) => void sent.push(mail) };
  const support = createSupportApp({ config, logger, metrics, health, models, redis, subscriber, namespace: options.namespace ?? options.dbName, clock: options.clock, mailer });
  await support.cache.start();
  return {
    ...support, models, connection, redis, sent,
    async close() {
      await support.relay.stop();
      await support.resend.stop();
      await support.cache.stop();
      await closeQueue(support.queue, 3_000).catch(() => undefined);
      await support.clients.close();
      health.close();
      await Promise.all([redis.quit(), subscriber.quit()]);
      await connection.close();
    },
  };
}
