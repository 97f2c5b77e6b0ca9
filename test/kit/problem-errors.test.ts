import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import Router from '@koa/router';
import { AppError, createKoaApp, createMetrics, Health } from '../../services/kit/index.js';
import { capturedLogger } from '../helpers/env.js';

/** A kit app whose log lines are kept, with one router mounted as the services mount theirs. */
function appWithLog(routerThrows: boolean) {
  const { logger, lines } = capturedLogger();
  const health = new Health();
  const app = createKoaApp({ logger, metrics: createMetrics('test'), health });
  const router = new Router({ prefix: '/api/things' });
  router.get('/', (ctx) => {
    ctx.body = { items: [] };
  });
  router.post('/', (ctx) => {
    ctx.status = 201;
    ctx.body = {};
  });
  router.get('/down', () => {
    throw new AppError(503, 'things_unavailable', 'Service unavailable', { detail: 'down', cause: new Error('connection refused by the thing store') });
  });
  router.get('/bug', () => {
    throw new TypeError('undefined is not a function (the bug)');
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: routerThrows }));
  return { server: request(app.callback()), lines, health };
}

describe('kit error middleware', () => {
  const apps = [appWithLog(true), appWithLog(false)];
  after(() => apps.forEach((a) => a.health.close()));

  for (const [index, mode] of ['a throwing router', 'a non-throwing router'].entries()) {
    test(`with ${mode}, when a method the router does not implement is used on a routed path, then 501 problem JSON, never 500`, async () => {
      const { server, lines } = apps[index]!;
      for (const method of ['TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK']) {
        const response = await server[method.toLowerCase() as 'get'](`/api/things`);
        assert.equal(response.status, 501, method);
        assert.equal(response.headers['content-type'], 'application/problem+json');
        assert.equal(JSON.parse(response.text).type, 'urn:problem:not_implemented');
      }
      assert.ok(!lines.some((line) => line.msg === 'unhandled error'), 'no unhandled error is logged');
    });

    test(`with ${mode}, when a known method is not allowed on a path, then 405 with Allow listing the route's methods`, async () => {
      const { server } = apps[index]!;
      const response = await server.delete('/api/things').expect(405);
      assert.equal(response.body.type, 'urn:problem:method_not_allowed');
      assert.deepEqual(String(response.headers.allow).split(', ').sort(), ['GET', 'HEAD', 'POST']);
      assert.ok(response.body.requestId);
    });
  }

  test('when a handler answers 503 with a cause, then the cause is logged with the request id', async () => {
    const { server, lines } = apps[0]!;
    const response = await server.get('/api/things/down').set('x-request-id', 'req-down-1').expect(503);
    assert.equal(response.body.type, 'urn:problem:things_unavailable');
    const logged = lines.find((line) => line.requestId === 'req-down-1' && line.msg === 'answered with a server error');
    assert.ok(logged, 'a log line for the 503');
    assert.match(JSON.stringify(logged.err), /connection refused by the thing store/);
  });

  test('when a handler has a bug, then 500 without the message, and the error is logged', async () => {
    const { server, lines } = apps[0]!;
    const response = await server.get('/api/things/bug').set('x-request-id', 'req-bug-1').expect(500);
    assert.doesNotMatch(response.text, /the bug/);
    const logged = lines.find((line) => line.requestId === 'req-bug-1' && line.msg === 'unhandled error');
    assert.match(JSON.stringify(logged?.err), /the bug/);
  });
});
