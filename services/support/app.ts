import type Koa from 'koa';
import type { Connection } from 'mongoose';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { adminTokenDigest, createKoaApp, createLocker, createQueue, createSweeper, customerTokenKey, pingMongo, pingRedis, SharedCache, systemClock, type Clock, type Health, type Logger, type Metrics, type Queue, type Redis, type Sweeper } from '../kit/index.js';
import { createSupportClients, type SupportClients } from './clients.js';
import type { SupportConfig } from './config.js';
import type { SupportModels } from './models.js';
import { relayOutbox, resendLostMail, simulatedMailer, startMailWorker, type Mail, type Mailer } from './domain/outbox.js';
import { createFaqRouter } from './routes/faq.js';
import { createTicketRouter } from './routes/tickets.js';
import { supportApiDoc } from './openapi.js';

export interface SupportAppDeps {
  config: SupportConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: SupportModels;
  redis: Redis;
  /** A dedicated connection for FAQ cache invalidation messages. */
  subscriber: Redis;
  /** Namespace of the cache, the limiter, the locks and the queue in Redis; tests use one per file. */
  namespace?: string;
  clock?: Clock;
  clients?: SupportClients;
  /** Defaults to the simulated mailer (a log line per mail). */
  mailer?: Mailer;
}

export interface SupportApp {
  app: Koa;
  cache: SharedCache<unknown>;
  /** Bull queue `support-mail`; main.ts closes it. */
  queue: Queue<Mail>;
  /** Outbox relay; main.ts starts and stops it, tests call runOnce. */
  relay: Sweeper;
  /** Queues again mails whose job is gone from the queue (a failed-over Redis primary); main.ts starts and stops it. */
  resend: Sweeper;
  clients: SupportClients;
}

/** Builds the support app, its FAQ cache, mail queue (and worker, unless disabled) and outbox relay; nothing listens here. */
export function createSupportApp(deps: SupportAppDeps): SupportApp {
  const { config, logger, metrics, health, models, redis } = deps;
  const namespace = deps.namespace ?? 'support';
  const clock = deps.clock ?? systemClock;
  const cache = new SharedCache<unknown>({
    name: `${namespace}-faq`, redis, subscriber: deps.subscriber, logger: logger.child({ module: 'cache' }), metrics,
    freshMs: config.SUPPORT_FAQ_CACHE_FRESH_MS, revalidateMs: config.SUPPORT_FAQ_CACHE_REVALIDATE_MS, staleIfErrorMs: config.SUPPORT_FAQ_CACHE_STALE_IF_ERROR_MS,
  });
  const clients = deps.clients ?? createSupportClients({ checkoutUrl: config.CHECKOUT_URL, timeoutMs: config.SUPPORT_CALL_TIMEOUT_MS, logger, metrics });
  // Bull makes its own connections (a blocking one among them): the kit's queue gives them bounded timeouts and Sentinel.
  const queue = createQueue<Mail>({ name: 'support-mail', redisUrl: config.REDIS_URL, redis: config, prefix: `bull:${namespace}`, logger, metrics });
  queue.on('failed', (job, error) => logger.warn({ err: error, outboxId: job.data.outboxId, attempts: job.attemptsMade }, 'mail failed'));
  if (config.SUPPORT_MAIL_WORKER) startMailWorker(queue, deps.mailer ?? simulatedMailer(logger.child({ module: 'mailer' })), models);
  const relay = createSweeper({
    name: 'support-outbox', intervalMs: config.SUPPORT_OUTBOX_INTERVAL_MS, logger: logger.child({ module: 'outbox' }), metrics,
    run: () => relayOutbox({ models, queue, now: clock.now(), batch: config.SUPPORT_OUTBOX_BATCH, logger }),
  });
  const resend = createSweeper({
    name: 'support-outbox-resend', intervalMs: config.SUPPORT_OUTBOX_RESEND_INTERVAL_MS, logger: logger.child({ module: 'outbox' }), metrics,
    run: () => resendLostMail({ models, queue, now: clock.now(), afterMs: config.SUPPORT_OUTBOX_RESEND_AFTER_MS, batch: config.SUPPORT_OUTBOX_BATCH, logger }),
  });

  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, cors: config, edge: { config, redis } });
  const { SUPPORT_FAQ_HTTP_MAX_AGE_S: maxAge, SUPPORT_FAQ_CACHE_REVALIDATE_MS: swr, SUPPORT_FAQ_CACHE_STALE_IF_ERROR_MS: sie } = config;
  const cacheControl = `public, max-age=${maxAge}, stale-while-revalidate=${Math.round(swr / 1000)}, stale-if-error=${Math.round(sie / 1000)}`;
  const adminDigest = adminTokenDigest(config);
  const faq = createFaqRouter({ models, cache, clock, adminDigest, cacheControl });
  const tickets = createTicketRouter({
    models, clock, clients, redis,
    lock: createLocker(redis, { prefix: `lock:${namespace}:ticket`, ttlMs: 10_000, waitMs: 5_000 }),
    customerKey: customerTokenKey(config.CUSTOMER_TOKEN_SECRET),
    adminDigest,
    createLimiter: new RateLimiterRedis({ storeClient: redis, keyPrefix: `${namespace}:tickets-per-client`, points: config.SUPPORT_TICKETS_PER_CLIENT, duration: config.SUPPORT_TICKETS_WINDOW_S }),
  });
  supportApiDoc().serve(tickets);
  for (const router of [faq, tickets]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return { app, cache, queue, relay, resend, clients };
}

/** Tickets need MongoDB (a ticket is answered only once stored) and Redis (limits, locks, queue); the FAQ alone could serve stale. */
export function addSupportChecks(health: Health, connection: Connection, redis: Redis): void {
  health.addCheck('mongo', () => pingMongo(connection));
  health.addCheck('redis', () => pingRedis(redis));
}
