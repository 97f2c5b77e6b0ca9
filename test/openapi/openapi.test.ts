import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { mergeApiDocs, routerOperations, toOpenApiPath } from '../../services/kit/index.js';
import { DOCUMENTED_SERVICES } from './services.js';

const key = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;

for (const service of DOCUMENTED_SERVICES) {
  describe(`${service.name} API document`, () => {
    let running: Awaited<ReturnType<typeof service.start>>;
    before(async () => {
      running = await service.start();
    });
    after(() => running.close());

    test('when the routes are compared with the documented operations, then they are the same set', () => {
      const routes = routerOperations(running.app).map(key).sort();
      const documented = (service.doc?.().operations() ?? []).map(key).sort();
      if (!service.doc) {
        assert.ok(routes.every((r) => !r.includes(' /api/')), `${service.name} has API routes but no document: ${routes.join(', ')}`);
        return;
      }
      assert.deepEqual(routes.filter((r) => !documented.includes(r)), [], 'routes without a documented operation');
      assert.deepEqual(documented.filter((d) => !routes.includes(d)), [], 'documented operations without a route');
    });

    if (service.doc) {
      test('when its document is fetched, then every operation lists the answers the kit\'s middleware can give on any route: 403, 429 and 503 (with Retry-After), 413 where a body is parsed', async () => {
        const doc = (await request(running.app.callback()).get(service.doc!().info.path).expect(200)).body;
        type Answer = { content?: Record<string, unknown>; headers?: Record<string, unknown> };
        for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, Answer> }>>)) {
          for (const [method, op] of Object.entries(item)) {
            const where = `${method.toUpperCase()} ${path}`;
            const expected = ['400', '403', '429', '500', '503', ...(method === 'get' ? [] : ['413'])];
            for (const status of expected) assert.deepEqual(Object.keys(op.responses[status]?.content ?? {}), ['application/problem+json'], `${where} ${status}`);
            if (method === 'get') assert.equal(op.responses['413'], undefined, `${where}: GET bodies are never parsed`);
            assert.deepEqual(Object.keys(op.responses['429']!.headers ?? {}).sort(), ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'], `${where} 429 headers`);
            assert.ok(op.responses['503']!.headers?.['Retry-After'], `${where} 503 Retry-After`);
          }
        }
      });

      test('when its document is fetched, then it is valid OpenAPI 3.1 and every error answer is application/problem+json', async () => {
        const response = await request(running.app.callback()).get(service.doc!().info.path).expect(200);
        const doc = response.body;
        assert.equal(doc.openapi, '3.1.0');
        const result = await new Validator().validate(doc);
        assert.equal(result.valid, true, JSON.stringify(result.errors)?.slice(0, 2000));
        for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>)) {
          for (const [method, op] of Object.entries(item)) {
            for (const [status, answer] of Object.entries(op.responses)) {
              if (Number(status) >= 400) assert.deepEqual(Object.keys(answer.content ?? {}), ['application/problem+json'], `${method} ${path} ${status}`);
            }
          }
        }
      });
    }
  });
}

test('when the documents are merged, then the result is valid OpenAPI 3.1 holding every operation of every service', async () => {
  const docs = DOCUMENTED_SERVICES.flatMap((s) => (s.doc ? [s.doc()] : []));
  const merged = mergeApiDocs(docs, { title: 'Shop', version: '1.0.0' });
  const result = await new Validator().validate(merged);
  assert.equal(result.valid, true, JSON.stringify(result.errors)?.slice(0, 2000));
  for (const doc of docs) {
    for (const op of doc.operations()) assert.ok(merged.paths[toOpenApiPath(op.path)]?.[op.method], key(op));
  }
});

test('the route check is real: an undocumented route is found', async () => {
  const { default: Koa } = await import('koa');
  const { default: Router } = await import('@koa/router');
  const app = new Koa();
  const router = new Router({ prefix: '/api/x' });
  router.get('/things/:id', () => undefined);
  router.post('/things', () => undefined);
  app.use(router.routes());
  assert.deepEqual(routerOperations(app).map(key).sort(), ['GET /api/x/things/:id', 'POST /api/x/things']);
});
