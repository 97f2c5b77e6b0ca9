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
