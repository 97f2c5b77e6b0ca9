import type Koa from 'koa';
import type { Context, Next } from 'koa';
import Router from '@koa/router';
import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { KoaAdapter } from '@bull-board/koa';
import { z } from 'zod';
import { adminTokenDigest, createHttpClient, createKoaApp, notFound, requireTokenDigest, validate, type HttpClient, type Health, type Logger, type Metrics, type Queue } from '../kit/index.js';
import type { FulfillmentConfig } from './config.js';
import type { FulfillmentModels } from './models.js';
import { fulfillmentApiDoc } from './openapi.js';
import { createSimulatedCarrier, fulfil, type Carrier, type FulfilDeps } from './domain/fulfil.js';

export interface FulfillmentJob {
  orderId: string;
}

export interface FulfillmentAppDeps {
  config: FulfillmentConfig;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  models: FulfillmentModels;
  queue: Queue<FulfillmentJob>;
  checkout?: HttpClient;
  carrier?: Carrier;
}

export interface FulfillmentApp {
  app: Koa;
  /** Starts consuming the queue (main.ts; tests may run jobs without it). */
  startWorker(): void;
  deps: FulfilDeps;
  close(): Promise<void>;
}

const BOARD = '/api/fulfillment/admin/queues';
export const jobParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a job id') }).strict();

/**
 * The worker and its small HTTP side: health, metrics, the bull-board
 * dashboard and a dead-letter list with a retry action, all admin-only.
 */
export function createFulfillmentApp(input: FulfillmentAppDeps): FulfillmentApp {
  const { config, logger, metrics, health, queue } = input;
  const checkout = input.checkout ?? createHttpClient({ name: 'checkout', baseUrl: config.CHECKOUT_URL, logger, metrics, timeoutMs: config.CALL_TIMEOUT_MS, retries: 2 });
  const deps: FulfilDeps = {
    models: input.models, checkout, internalToken: config.INTERNAL_TOKEN, logger: logger.child({ module: 'worker' }), now: Date.now,
    carrier: input.carrier ?? createSimulatedCarrier({ latencyMs: config.CARRIER_SIM_LATENCY_MS, failureRate: config.CARRIER_SIM_FAILURE_RATE }),
  };
  const app = createKoaApp({ logger, metrics, health, bodyLimit: config.BODY_LIMIT, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, accessLog: { sample: config.ACCESS_LOG_SAMPLE, slowMs: config.ACCESS_LOG_SLOW_MS }, edge: { config } });
  const admin = requireTokenDigest(adminTokenDigest(config));

  const board = new KoaAdapter();
  board.setBasePath(BOARD);
  // @bull-board/koa pins its own copy of @bull-board/api one patch behind ours: same shape, separate declarations.
  createBullBoard({ queues: [new BullAdapter(queue)], serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'] });
  const boardMiddleware = board.registerPlugin();
  app.use(async function boardBehindAdmin(ctx: Context, next: Next) {
    if (ctx.path !== BOARD && !ctx.path.startsWith(`${BOARD}/`)) return next();
    return admin(ctx, () => boardMiddleware(ctx, next));
  });

  const router = new Router({ prefix: '/api/fulfillment/admin' });
  router.get('/dead-letters', admin, async (ctx) => {
    const failed = await queue.getFailed(0, 99);
    ctx.body = { jobs: failed.map((job) => ({ id: String(job.id), orderId: job.data.orderId, attempts: job.attemptsMade, failedReason: job.failedReason ?? null, finishedOn: job.finishedOn ?? null })) };
  });
  router.post('/dead-letters/:id/retry', admin, async (ctx) => {
    const { id } = validate(jobParams, ctx.params, 'params');
    const job = await queue.getJob(id);
    if (!job || !(await job.isFailed())) throw notFound(`no failed job ${id}`);
    await job.retry();
    ctx.body = { id, retried: true };
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  // The document sits outside the admin prefix, where the other services serve theirs.
  const docs = new Router({ prefix: '/api/fulfillment' });
  fulfillmentApiDoc().serve(docs);
  app.use(docs.routes());

  return {
    app,
    deps,
    startWorker() {
      void queue.process(config.FULFILLMENT_CONCURRENCY, async (job) => {
        const outcome = await fulfil(deps, job.data.orderId);
        return { outcome };
      });
    },
    async close() {
      await checkout.close();
    },
  };
}
