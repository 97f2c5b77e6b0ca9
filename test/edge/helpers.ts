import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Router from '@koa/router';
import type Koa from 'koa';
import { createKoaApp, createLogger, createMetrics, createRedis, connectRedis, edgeConfig, Health, type Clock, type LoadSignal, type Metrics, type Redis } from '../../services/kit/index.js';
import { startRedis } from '../../scripts/lib/stack.js';
import { freePort } from '../helpers/ferretdb.js';
import { capturedLogger, testLogger, testServers } from '../helpers/env.js';

export const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
export const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
/** An address in the default Googlebot range. */
export const GOOGLE_IP = '66.249.66.1';

export interface EdgeTestApp {
  app: Koa;
  metrics: Metrics;
  /** JSON log lines the app wrote. */
  logs: Array<Record<string, unknown>>;
}

/**
 * A kit app with one stub route per route class, edge settings from
 * `overrides`. Loopback is NOT exempt here (tests speak from 127.0.0.1) but is
 * a trusted proxy, so X-Forwarded-For stands for the client address. The load
 * signal is 0 unless given: a busy test machine must not shed these requests.
 */
export function edgeApp(options: { overrides?: Record<string, string>; redis?: Redis; keyPrefix: string; loadSignal?: LoadSignal; customerKey?: Buffer; clock?: Clock; logLevel?: string }): EdgeTestApp {
  const { logger, lines: logs } = capturedLogger('edge-test', options.logLevel ?? 'warn');
  const metrics = createMetrics('edge-test');
  const config = edgeConfig({ EDGE_EXEMPT_CIDRS: '', ...options.overrides });
  const app = createKoaApp({ logger, metrics, health: new Health(), edge: { config, redis: options.redis, keyPrefix: options.keyPrefix, loadSignal: options.loadSignal ?? (() => 0), customerKey: options.customerKey, clock: options.clock } });
  const router = new Router();
  router.get('/api/catalog/products/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, name: 'Kettle' };
  });
  router.get('/api/cart/cart', (ctx) => {
    ctx.body = { lines: [] };
  });
  router.post('/api/cart/cart/lines', (ctx) => {
    ctx.status = 201;
    ctx.body = { ok: true };
  });
  router.post('/api/checkout', (ctx) => {
    ctx.status = 201;
    ctx.body = { order: 'o1' };
  });
  router.post('/api/support/tickets', (ctx) => {
    ctx.status = 201;
    ctx.body = { ticket: 't1' };
  });
  app.use(router.routes());
  return { app, metrics, logs };
}

/** A Redis connection to the test stack's server. */
export async function testRedis(): Promise<Redis> {
  return connectRedis(createRedis(testServers().redisUrl, testLogger('edge-test')));
}

/** The value of one sample of a metric, or 0. */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  const sample = data.values.find((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted));
  return sample?.value ?? 0;
}

/**
 * A Redis server of the test's own, connected, for tests that stop it: `stop()`
 * stops it and waits until the client has noticed. Stopped and removed after `use`.
 */
export async function withOwnRedis(use: (own: { redis: Redis; stop(): Promise<void> }) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-redis-'));
  const port = await freePort();
  const server = await startRedis(port, dir, path.join(dir, 'redis.log'));
  const redis = await connectRedis(createRedis(`redis://127.0.0.1:${port}`, createLogger({ service: 'edge-test', level: 'silent' })));
  const stop = async () => {
    await server.stop();
    for (let i = 0; i < 50 && redis.status === 'ready'; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.notEqual(redis.status, 'ready');
  };
  try {
    await use({ redis, stop });
  } finally {
    redis.disconnect();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
