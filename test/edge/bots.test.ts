import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import request from 'supertest';
import { CidrSet, createBotClassifier, createEdgeProtection, createLogger, createMetrics, edgeConfig, FLAG_RECHECK_MS, ManualClock } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { BROWSER, edgeApp, GOOGLE_IP, GOOGLEBOT, metricValue, testRedis } from './helpers.js';

const prefix = uniqueName(import.meta.url);
const redis = await testRedis();
after(() => redis.quit());

test('when a scanner, an empty user-agent or a headless browser calls, then every route answers 403, counted and logged with the reason', async () => {
  const { app, metrics, logs } = edgeApp({ redis, keyPrefix: `${prefix}:bad` });
  const server = request(app.callback());
  for (const ua of ['sqlmap/1.7.2#stable (https://sqlmap.org)', 'Mozilla/5.00 (Nikto/2.1.6)', '', 'Mozilla/5.0 HeadlessChrome/120.0']) {
    await server.get('/api/catalog/products/kettle').set('user-agent', ua).set('x-forwarded-for', '198.51.100.7').expect(403);
    await server.post('/api/cart/cart/lines').set('user-agent', ua).set('x-forwarded-for', '198.51.100.7').send({}).expect(403);
  }
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'browse' }), 4);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'cart' }), 4);
  const reasons = logs.filter((line) => line.msg === 'edge blocked request').map((line) => line.reason);
  assert.ok(reasons.includes('signature:sqlmap'));
  assert.ok(reasons.includes('empty-user-agent'));
  assert.ok(reasons.includes('signature:HeadlessChrome'));
});

test('when a server-side client without any browser-only header calls, then it is treated as a human and served', async () => {
  const { app, metrics } = edgeApp({ redis, keyPrefix: `${prefix}:human` });
  const server = request(app.callback());
  const response = await server.get('/api/catalog/products/kettle').set('user-agent', 'storefront-ssr/2.3 undici').set('x-forwarded-for', '198.51.100.8').expect(200);
  assert.equal(response.body.id, 'kettle');
  await server.post('/api/cart/cart/lines').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.8').send({}).expect(201);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'human', decision: 'allowed', route_class: 'browse' }), 1);
});

test('when Googlebot calls from its published range, then it may browse but gets 403 on cart, checkout and tickets', async () => {
  const { app, metrics } = edgeApp({ redis, keyPrefix: `${prefix}:good` });
  const server = request(app.callback());
  const browse = await server.get('/api/catalog/products/kettle').set('user-agent', GOOGLEBOT).set('x-forwarded-for', GOOGLE_IP).expect(200);
  assert.match(String(browse.headers['cache-control']), /public/);
  await server.get('/api/cart/cart').set('user-agent', GOOGLEBOT).set('x-forwarded-for', GOOGLE_IP).expect(403);
  await server.post('/api/checkout').set('user-agent', GOOGLEBOT).set('x-forwarded-for', GOOGLE_IP).send({}).expect(403);
  await server.post('/api/support/tickets').set('user-agent', GOOGLEBOT).set('x-forwarded-for', GOOGLE_IP).send({}).expect(403);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'good-bot', decision: 'blocked_route' }) > 0, true);
});

test('when a client claims to be Googlebot from outside its range, then it is a bad bot (forged crawler)', async () => {
  const { app, logs } = edgeApp({ redis, keyPrefix: `${prefix}:forged` });
  await request(app.callback()).get('/api/catalog/products/kettle').set('user-agent', GOOGLEBOT).set('x-forwarded-for', '203.0.113.9').expect(403);
  assert.ok(logs.some((line) => line.reason === 'forged-crawler:Googlebot'));
});

test('when the service comes under load, then the crawler budget shrinks: fewer crawler requests pass within the same window', async () => {
  let pressure = 0;
  const allowedWith = async (keyPrefix: string) => {
    const { app } = edgeApp({ redis, keyPrefix, overrides: { EDGE_LIMIT_GOOD_BOT: '20/60' }, loadSignal: () => pressure });
    const server = request(app.callback());
    let allowed = 0;
    for (let i = 0; i < 25; i += 1) {
      const response = await server.get(`/api/catalog/products/p${i}`).set('user-agent', GOOGLEBOT).set('x-forwarded-for', GOOGLE_IP);
      if (response.status === 200) allowed += 1;
      else assert.equal(response.status, 429);
    }
    return allowed;
  };
  const idle = await allowedWith(`${prefix}:budget-idle`);
  pressure = 0.75;
  const loaded = await allowedWith(`${prefix}:budget-loaded`);
  assert.equal(idle, 20);
  assert.equal(loaded, 5, 'at pressure 0.75 a crawler keeps a quarter of its budget');
});

test('when a client makes checkout attempts far beyond human rates, then it is treated as a bot on every replica until the cool-down ends', async () => {
  const keyPrefix = `${prefix}:behaviour`;
  const overrides = { EDGE_BEHAVIOUR_CHECKOUT: '3/600', EDGE_BEHAVIOUR_COOLDOWN_S: '60' };
  const a = request(edgeApp({ redis, keyPrefix, overrides }).app.callback());
  const b = request(edgeApp({ redis, keyPrefix, overrides }).app.callback());
  for (let i = 0; i < 3; i += 1) await a.post('/api/checkout').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.20').send({}).expect(201);
  const blocked = await a.post('/api/checkout').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.20').send({}).expect(403);
  assert.equal(blocked.body.type, 'urn:problem:forbidden');
  await b.post('/api/cart/cart/lines').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.20').send({}).expect(403);
  await b.post('/api/checkout').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.21').send({}).expect(201);
  assert.equal(Number(await redis.ttl(`${keyPrefix}:flag:ip:198.51.100.20`)) > 0, true);
});

test('when another replica flags a client, then this replica believes its own recent "not flagged" for at most the recheck interval, then refuses it', async () => {
  const keyPrefix = `${prefix}:flag-recheck`;
  const overrides = { EDGE_BEHAVIOUR_CHECKOUT: '1/600', EDGE_BEHAVIOUR_COOLDOWN_S: '60' };
  const clock = new ManualClock(Date.now());
  const a = request(edgeApp({ redis, keyPrefix, overrides }).app.callback());
  const b = request(edgeApp({ redis, keyPrefix, overrides, clock }).app.callback());
  const cartWrite = () => b.post('/api/cart/cart/lines').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.30').send({});
  await cartWrite().expect(201);
  await a.post('/api/checkout').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.30').send({}).expect(201);
  await a.post('/api/checkout').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.30').send({}).expect(403);
  // Replica b asked Redis on the first write and remembers the answer for FLAG_RECHECK_MS.
  await cartWrite().expect(201);
  clock.advance(FLAG_RECHECK_MS + 1);
  await cartWrite().expect(403);
});

test('when the same user-agents come again, then the remembered classification gives the same verdicts, and a crawler is still checked against its range per address', () => {
  const classify = createBotClassifier({ goodAgents: ['Googlebot'], goodCidrs: new CidrSet(['66.249.64.0/19']), badAgents: ['sqlmap', 'HeadlessChrome'] }, 2);
  const long = `Mozilla/5.0 ${'x'.repeat(600)} SQLMAP`;
  for (let round = 0; round < 2; round += 1) {
    assert.deepEqual(classify('Mozilla/5.0 headlesschrome/120', '198.51.100.1'), { class: 'bad-bot', reason: 'signature:HeadlessChrome' });
    assert.deepEqual(classify(GOOGLEBOT, GOOGLE_IP), { class: 'good-bot', name: 'Googlebot' });
    assert.deepEqual(classify(GOOGLEBOT, '203.0.113.9'), { class: 'bad-bot', reason: 'forged-crawler:Googlebot' });
    assert.deepEqual(classify('   ', '198.51.100.1'), { class: 'bad-bot', reason: 'empty-user-agent' });
    assert.deepEqual(classify(long, '198.51.100.1'), { class: 'bad-bot', reason: 'signature:sqlmap' });
    assert.deepEqual(classify(BROWSER, '198.51.100.1'), { class: 'human' });
  }
});

test('when a bad bot is screened out before the rest of the chain, then its 403 still carries the problem body, request id, no-store and the security headers', async () => {
  const { app, metrics } = edgeApp({ redis, keyPrefix: `${prefix}:screen` });
  const server = request(app.callback());
  const response = await server.get('/api/cart/cart').set('user-agent', 'masscan/1.3').set('x-forwarded-for', '198.51.100.60').set('x-request-id', 'screen-test-1').expect(403);
  assert.equal(response.headers['content-type'], 'application/problem+json');
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers['x-request-id'], 'screen-test-1');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
  assert.deepEqual(response.body, { type: 'urn:problem:forbidden', title: 'Forbidden', status: 403, detail: 'automated clients of this kind are not allowed', requestId: 'screen-test-1' });
  const head = await server.head('/api/catalog/products/kettle').set('user-agent', '').set('x-forwarded-for', '198.51.100.60').expect(403);
  assert.match(String(head.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'cart' }), 1);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'browse' }), 1);
});

test('when the protection middleware runs without the screen in front, then bad bots get the same 403 from it', async () => {
  const koa = new Koa();
  const metrics = createMetrics('edge-unscreened');
  const edge = createEdgeProtection({ config: edgeConfig({ EDGE_EXEMPT_CIDRS: '' }), redis, keyPrefix: `${prefix}:unscreened`, logger: createLogger({ service: 'edge-test', level: 'silent' }), metrics, loadSignal: () => 0 });
  koa.use(edge.middleware);
  koa.use((ctx) => {
    ctx.body = { ok: true };
  });
  const response = await request(koa.callback()).get('/api/catalog/products/kettle').set('user-agent', 'sqlmap/1.7').set('x-forwarded-for', '198.51.100.61').expect(403);
  assert.equal(response.body.type, 'urn:problem:forbidden');
  await request(koa.callback()).get('/api/catalog/products/kettle').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.61').expect(200);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'browse' }), 1);
});
