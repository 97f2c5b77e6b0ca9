import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Router from '@koa/router';
import { z } from 'zod';
import { baseConfigShape, createKoaApp, loadConfig, requireAdmin } from '../../services/kit/index.js';
import { testObservability } from '../helpers/env.js';

const env = { MONGODB_URI: 'mongodb://127.0.0.1:1/x', REDIS_URL: 'redis://127.0.0.1:1' };
const corsShape = { ...baseConfigShape, ADMIN_TOKEN: z.string() };

function appWith(extra: Record<string, string>) {
  const config = loadConfig(corsShape, { ...env, ADMIN_TOKEN: 'admin-token-0123456789', ...extra });
  const { logger, metrics, health } = testObservability();
  const app = createKoaApp({ logger, metrics, health, cors: config });
  const router = new Router({ prefix: '/api/things' });
  router.post('/', requireAdmin(config.ADMIN_TOKEN), (ctx) => {
    ctx.status = 201;
    ctx.body = { ok: true };
  });
  router.get('/', (ctx) => {
    ctx.set('etag', '"abc"');
    ctx.body = { items: [] };
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { server: request(app.callback()), health };
}

describe('CORS for browser storefronts (issue 9, item 10)', () => {
  const open = appWith({ CORS_ORIGINS: 'https://shop.example, https://m.shop.example', CORS_MAX_AGE_S: '900' });
  const closed = appWith({});
  after(() => [open, closed].forEach((a) => a.health.close()));

  test('when an allowed origin sends a preflight for an authenticated write, then it is answered before auth with the allowed methods, headers and max-age', async () => {
    const response = await open.server
      .options('/api/things')
      .set('origin', 'https://shop.example')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'content-type, authorization, x-cart-token, idempotency-key')
      .expect(204);
    assert.equal(response.headers['access-control-allow-origin'], 'https://shop.example');
    const headers = String(response.headers['access-control-allow-headers']).toLowerCase().split(',');
    for (const name of ['content-type', 'authorization', 'x-cart-token', 'idempotency-key']) assert.ok(headers.includes(name), name);
    assert.match(String(response.headers['access-control-allow-methods']), /POST/);
    assert.equal(response.headers['access-control-max-age'], '900');
    assert.match(String(response.headers.vary), /Origin/);
    assert.equal(response.headers['access-control-allow-credentials'], undefined);
  });

  test('when an allowed origin reads or fails, then the answer names the origin and exposes request id, ETag and Retry-After', async () => {
    const read = await open.server.get('/api/things').set('origin', 'https://m.shop.example').expect(200);
    assert.equal(read.headers['access-control-allow-origin'], 'https://m.shop.example');
    const exposed = String(read.headers['access-control-expose-headers']).toLowerCase();
    for (const name of ['x-request-id', 'etag', 'retry-after', 'ratelimit-remaining']) assert.ok(exposed.includes(name), name);
    const denied = await open.server.post('/api/things').set('origin', 'https://shop.example').send({}).expect(401);
    assert.equal(denied.headers['access-control-allow-origin'], 'https://shop.example');
  });

  test('when the origin is not listed, or none is configured (the default), then no CORS header is sent', async () => {
    const other = await open.server.options('/api/things').set('origin', 'https://evil.example').set('access-control-request-method', 'POST');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const none = await closed.server.get('/api/things').set('origin', 'https://shop.example').expect(200);
    assert.equal(none.headers['access-control-allow-origin'], undefined);
  });

  test('when CORS_ORIGINS is not a list of origins, then the config names the variable', () => {
    assert.throws(() => loadConfig(corsShape, { ...env, ADMIN_TOKEN: 'x', CORS_ORIGINS: 'shop.example' }), /CORS_ORIGINS/);
  });
});
