import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { resolveClientIp, CidrSet, signCustomerToken } from '../../services/kit/index.js';
import { uniqueName } from '../helpers/env.js';
import { BROWSER, edgeApp, metricValue, testRedis, withOwnRedis } from './helpers.js';

const prefix = uniqueName(import.meta.url);
const redis = await testRedis();
after(() => redis.quit());

const browse = (server: ReturnType<typeof request>, ip: string) => server.get('/api/catalog/products/kettle').set('user-agent', BROWSER).set('x-forwarded-for', ip);

test('when one client spreads requests over two replicas, then the shared limit holds and the 429 carries Retry-After and RateLimit headers', async () => {
  const keyPrefix = `${prefix}:shared`;
  const overrides = { EDGE_LIMIT_BROWSE: '5/60' };
  const replicas = [request(edgeApp({ redis, keyPrefix, overrides }).app.callback()), request(edgeApp({ redis, keyPrefix, overrides }).app.callback())];
  for (let i = 0; i < 5; i += 1) {
    const ok = await browse(replicas[i % 2]!, '198.51.100.30').expect(200);
    assert.equal(ok.headers['ratelimit-remaining'], String(4 - i));
  }
  const limited = await browse(replicas[1]!, '198.51.100.30').expect(429);
  assert.equal(limited.headers['ratelimit-limit'], '5');
  assert.equal(limited.headers['ratelimit-remaining'], '0');
  assert.ok(Number(limited.headers['ratelimit-reset']) > 0 && Number(limited.headers['ratelimit-reset']) <= 60);
  assert.equal(limited.headers['retry-after'], limited.headers['ratelimit-reset']);
  assert.equal(limited.body.type, 'urn:problem:rate_limited');
  await browse(replicas[0]!, '198.51.100.31').expect(200);
});

test('when X-Forwarded-For comes from a peer that is not a trusted proxy, then it is ignored and the peer address is the key', async () => {
  const { app } = edgeApp({ redis, keyPrefix: `${prefix}:untrusted`, overrides: { EDGE_LIMIT_BROWSE: '2/60', EDGE_TRUSTED_PROXIES: '10.0.0.0/8' } });
  const server = request(app.callback());
  await browse(server, '198.51.100.40').expect(200);
  await browse(server, '198.51.100.41').expect(200);
  await browse(server, '198.51.100.42').expect(429);
});

test('when the forwarded chain has entries a client wrote, then only the hops of trusted proxies are walked', () => {
  const trustedProxies = new CidrSet(['10.0.0.0/8', '127.0.0.1']);
  assert.equal(resolveClientIp('::ffff:10.1.2.3', '6.6.6.6, 203.0.113.5', { trustedProxies, hops: 1 }), '203.0.113.5');
  assert.equal(resolveClientIp('10.1.2.3', '6.6.6.6, 203.0.113.5, 10.9.9.9', { trustedProxies, hops: 2 }), '203.0.113.5');
  assert.equal(resolveClientIp('10.1.2.3', '6.6.6.6, 203.0.113.5, 10.9.9.9', { trustedProxies, hops: 1 }), '10.9.9.9');
  assert.equal(resolveClientIp('198.51.100.1', '6.6.6.6', { trustedProxies, hops: 1 }), '198.51.100.1');
  assert.equal(resolveClientIp('10.1.2.3', 'not-an-ip', { trustedProxies, hops: 1 }), '10.1.2.3');
});

test('when addresses are matched against ranges, then IPv4 ranges, single addresses, mapped and IPv6 forms answer as CIDR says, and malformed ones never match', () => {
  const set = new CidrSet(['66.249.64.0/19', '203.0.113.7', '2001:db8::/32', '::1']);
  for (const ip of ['66.249.64.0', '66.249.95.255', '203.0.113.7', '::ffff:66.249.70.1', '2001:db8::5', '::1']) assert.equal(set.has(ip), true, ip);
  for (const ip of ['66.249.63.255', '66.249.96.0', '203.0.113.8', '2001:db9::5', '::2', '', '66.249.64', '066.249.64.1', '66.249.64.256', '66.249.64.1.2', 'x']) assert.equal(set.has(ip), false, ip);
  assert.equal(new CidrSet(['0.0.0.0/0']).has('255.255.255.255'), true);
  assert.equal(new CidrSet([]).has('1.2.3.4'), false);
  // Asked twice: the remembered IPv6 answers stay right.
  assert.equal(set.has('2001:db8::5'), true);
  assert.equal(set.has('2001:db9::5'), false);
  const trustedProxies = new CidrSet(['10.0.0.0/8']);
  assert.equal(resolveClientIp('10.1.2.3', ' 6.6.6.6 ,2001:db8::9 ', { trustedProxies, hops: 1 }), '2001:db8::9');
  assert.equal(resolveClientIp('10.1.2.3', ',10.9.9.9', { trustedProxies, hops: 3 }), '10.9.9.9');
});

test('when a signed-in customer calls from changing addresses, then the limit follows the customer id; rotating cart tokens still meets the per-address ceiling', async () => {
  const customerKey = Buffer.from('customer-key-for-edge-tests-0123');
  const { app } = edgeApp({ redis, keyPrefix: `${prefix}:keys`, customerKey, overrides: { EDGE_LIMIT_CART: '2/60', EDGE_IP_CEILING_FACTOR: '2' } });
  const server = request(app.callback());
  const bearer = `Bearer ${signCustomerToken(customerKey, 'cust-1', Date.now() + 60_000)}`;
  const asCustomer = (ip: string) => server.get('/api/cart/cart').set('user-agent', BROWSER).set('authorization', bearer).set('x-forwarded-for', ip);
  await asCustomer('198.51.100.50').expect(200);
  await asCustomer('198.51.100.51').expect(200);
  await asCustomer('198.51.100.52').expect(429);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i += 1) {
    const token = `${String(i).padStart(2, '0')}${'a'.repeat(41)}`;
    statuses.push((await server.get('/api/cart/cart').set('user-agent', BROWSER).set('x-cart-token', token).set('x-forwarded-for', '198.51.100.60')).status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
});

test('when Redis stops, then limits fall back to this process (still limiting, never failing) and metrics say degraded', async () => {
  await withOwnRedis(async (own) => {
    const { app, metrics } = edgeApp({ redis: own.redis, keyPrefix: `${prefix}:degraded`, overrides: { EDGE_LIMIT_BROWSE: '3/60' } });
    const client = request(app.callback());
    await browse(client, '198.51.100.70').expect(200);
    assert.equal(await metricValue(metrics, 'edge_limiter_degraded'), 0);
    await own.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await browse(client, '198.51.100.70')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal(await metricValue(metrics, 'edge_limiter_degraded'), 1);
  });
});
