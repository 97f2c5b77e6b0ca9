import { test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Router from '@koa/router';
import { connectMongo, createKoaApp, pingMongo } from '../../services/kit/index.js';
import { startOwnFerretdb } from '../helpers/ferretdb.js';
import { testObservability } from '../helpers/env.js';

test('when the database stops, then /readyz turns red with the reason while /healthz stays green; draining also turns it red', async () => {
  const ferret = await startOwnFerretdb('health');
  const { logger, metrics, health } = testObservability();
  const connection = await connectMongo(ferret.uri, { logger, serverSelectionTimeoutMs: 500 });
  health.addCheck('mongo', () => pingMongo(connection));
  const app = createKoaApp({ logger, metrics, health });
  const server = request(app.callback());
  try {
    const up = await server.get('/readyz').expect(200);
    assert.deepEqual(up.body, { status: 'ready', checks: { mongo: 'ok' } });

    await ferret.stop();
    const down = await server.get('/readyz').expect(503);
    assert.equal(down.body.status, 'not ready');
    assert.notEqual(down.body.checks.mongo, 'ok');
    await server.get('/healthz').expect(200);

    health.startDraining();
    const draining = await server.get('/readyz').expect(503);
    assert.equal(draining.body.status, 'draining');
  } finally {
    await ferret.dispose();
    await connection.close(true);
    health.close();
  }
});

test('when a route is requested, then the metrics expose its template, status and in-flight gauge', async () => {
  const { logger, metrics, health } = testObservability('metrics');
  const app = createKoaApp({ logger, metrics, health });
  const router = new Router();
  router.get('/things/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  app.use(router.routes());
  const server = request(app.callback());
  await server.get('/things/42').expect(200);
  const text = (await server.get('/metrics').expect(200)).text;
  assert.match(text, /http_request_duration_seconds_count\{service="metrics",method="GET",route="\/things\/:id",status="200"\} 1/);
  assert.match(text, /http_requests_in_flight\{service="metrics"\} \d/);
  assert.match(text, /nodejs_eventloop_lag_p99_seconds/);
  health.close();
});

test('when a handler is slower than the request timeout, then the client gets 503 with Retry-After', async () => {
  const { logger, metrics, health } = testObservability();
  const app = createKoaApp({ logger, metrics, health, requestTimeoutMs: 50 });
  app.use(async (ctx) => {
    await new Promise((r) => setTimeout(r, 300));
    ctx.body = 'late';
  });
  const response = await request(app.callback()).get('/anything').expect(503);
  assert.equal(response.body.type, 'urn:problem:request_timeout');
  assert.equal(response.headers['retry-after'], '1');
  assert.ok(response.headers['x-request-id']);
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  health.close();
});
