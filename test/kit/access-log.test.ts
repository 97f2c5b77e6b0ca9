import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Router from '@koa/router';
import { conflict, createKoaApp, createMetrics, Health, withoutStack } from '../../services/kit/index.js';
import { capturedLogger } from '../helpers/env.js';

test('when a handler marks a 409 as routine, then it is counted in the request metrics but not written to the access log, and other 409s still are', async () => {
  const { logger, lines } = capturedLogger();
  const health = new Health();
  const metrics = createMetrics('test');
  // Sample 0: only notable requests are logged.
  const app = createKoaApp({ logger, metrics, health, accessLog: { sample: 0, slowMs: 60_000 } });
  const router = new Router();
  router.post('/routine', (ctx) => {
    ctx.state.routine = true;
    throw withoutStack(() => conflict('insufficient_stock', 'none left', { available: 0 }));
  });
  router.post('/other', () => {
    throw conflict('cart_changed', 'the cart changed');
  });
  app.use(router.routes());
  try {
    const server = request(app.callback());
    const routine = await server.post('/routine').expect(409);
    assert.deepEqual([routine.body.type, routine.body.available], ['urn:problem:insufficient_stock', 0]);
    await server.post('/other').expect(409);
    const logged = lines.filter((line) => line.msg === 'request').map((line) => line.route);
    assert.deepEqual(logged, ['/other']);
    const counted = (await metrics.httpDuration.get()).values.filter((v) => v.metricName === 'http_request_duration_seconds_count' && v.labels.status === '409').map((v) => [v.labels.route, v.value]);
    assert.deepEqual(counted.sort(), [['/other', 1], ['/routine', 1]]);
  } finally {
    health.close();
  }
});

test('when an error is built without a stack, then it has no stack frames and the limit is restored afterwards', () => {
  const limit = Error.stackTraceLimit;
  const error = withoutStack(() => conflict('insufficient_stock', 'none left'));
  assert.equal(error.stack?.includes('\n    at '), false);
  assert.equal(Error.stackTraceLimit, limit);
  assert.ok(new Error('x').stack?.includes('\n    at '));
});
