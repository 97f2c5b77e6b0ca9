import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { systemClock } from '../../services/kit/index.js';
import { SyncedLimit } from '../../services/kit/protection/synced-limit.js';
import { uniqueName } from '../helpers/env.js';
import { BROWSER, edgeApp, metricValue, testRedis, withOwnRedis } from './helpers.js';

const prefix = uniqueName(import.meta.url);
const redis = await testRedis();
after(() => redis.quit());

const browse = (server: ReturnType<typeof request>, ip: string) => server.get('/api/catalog/products/kettle').set('user-agent', BROWSER).set('x-forwarded-for', ip);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A budget of 40 a minute, passed by at most 20 % over 2 replicas: 4 a replica may admit per client between two syncs (every 50 ms). */
const SYNCED = { EDGE_LIMIT_BROWSE: '40/60', EDGE_LIMIT_OVERSHOOT: '0.2', EDGE_LIMIT_REPLICAS: '2', EDGE_LIMIT_SYNC_MS: '50' };

test('when one client spreads requests over two replicas with synced limits, then it passes its budget by at most the allowed overshoot (20 %), and once synced both replicas refuse without asking Redis', async () => {
  const keyPrefix = `${prefix}:spread`;
  const replicas = [edgeApp({ redis, keyPrefix, overrides: SYNCED }), edgeApp({ redis, keyPrefix, overrides: SYNCED })];
  const servers = replicas.map(({ app }) => request(app.callback()));
  const statuses: number[] = [];
  for (let i = 0; i < 60; i += 1) statuses.push((await browse(servers[i % 2]!, '198.51.100.80')).status);
  const passed = statuses.filter((status) => status === 200).length;
  // Every request up to the budget passes; past it, each replica may have admitted its unsynced 4.
  assert.deepEqual(statuses.slice(0, 40), Array(40).fill(200));
  assert.ok(passed <= 40 + 2 * 4, `passed ${passed}`);
  assert.equal(statuses.at(-1), 429);

  await sleep(150);
  // Once synced, Redis has counted every request that passed (and the refused ones that asked it).
  const counter = Number(await redis.get(`${keyPrefix}:browse:ip:198.51.100.80`));
  assert.ok(counter >= passed, `Redis counted ${counter}, ${passed} passed`);
  const asked = await Promise.all(replicas.map(({ metrics }) => metricValue(metrics, 'edge_limiter_decisions_total', { path: 'redis' })));
  for (const server of servers) {
    const refused = await browse(server, '198.51.100.80').expect(429);
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    assert.ok(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 60);
  }
  // Refused from what the last sync said: no request went to Redis for them.
  assert.deepEqual(await Promise.all(replicas.map(({ metrics }) => metricValue(metrics, 'edge_limiter_decisions_total', { path: 'redis' }))), asked);
  await browse(servers[0]!, '198.51.100.81').expect(200);
});

test('when many clients browse once each, then they are admitted from memory and one call sends all their counts, in the windows the per-request limiter uses', async () => {
  const keyPrefix = `${prefix}:many`;
  const { app, metrics } = edgeApp({ redis, keyPrefix, overrides: SYNCED });
  const server = request(app.callback());
  const clients = Array.from({ length: 120 }, (_, i) => `198.18.7.${i + 1}`);
  for (const ip of clients) {
    const ok = await browse(server, ip).expect(200);
    assert.equal(ok.headers['ratelimit-remaining'], '39');
  }
  await sleep(150);
  assert.equal(await metricValue(metrics, 'edge_limiter_decisions_total', { path: 'memory' }), 120);
  assert.equal(await metricValue(metrics, 'edge_limiter_decisions_total', { path: 'redis' }), 0);
  const syncs = await metricValue(metrics, 'edge_limiter_syncs_total', { outcome: 'ok' });
  assert.ok(syncs >= 1 && syncs < 120, `syncs ${syncs}`);
  const counters = await redis.mget(clients.map((ip) => `${keyPrefix}:browse:ip:${ip}`));
  assert.deepEqual(counters, Array(120).fill('1'));
  const ttl = await redis.pttl(`${keyPrefix}:browse:ip:${clients[0]!}`);
  assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
  // The next request of a client carries on from the synced count.
  const again = await browse(server, clients[0]!).expect(200);
  assert.equal(again.headers['ratelimit-remaining'], '38');
});

test('when Redis stops between two syncs, then the sync fails and is counted, and the limit carries on per process without failing requests', async () => {
  await withOwnRedis(async (own) => {
    const { app, metrics } = edgeApp({ redis: own.redis, keyPrefix: `${prefix}:down`, overrides: { ...SYNCED, EDGE_LIMIT_SYNC_MS: '400' } });
    const client = request(app.callback());
    await browse(client, '198.51.100.90').expect(200);
    await own.stop();
    await sleep(500);
    assert.equal(await metricValue(metrics, 'edge_limiter_syncs_total', { outcome: 'failed' }), 1);
    assert.equal(await metricValue(metrics, 'edge_limiter_degraded'), 1);
    const statuses: number[] = [];
    for (let i = 0; i < 41; i += 1) statuses.push((await browse(client, '198.51.100.90')).status);
    assert.deepEqual(statuses, [...Array(40).fill(200), 429]);
  });
});

test('when a counter vanishes from Redis while a replica still counts in its window, then the sync that recreates it gives it an expiry', async () => {
  const base = { keyPrefix: `${prefix}:vanish`, points: 100, duration: 60 };
  const exact = new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(base) });
  const limit = new SyncedLimit({ redis, exact, durationS: 60, syncMs: 60_000, localPoints: 10, clock: systemClock });
  const counter = `${prefix}:vanish:ip:198.51.100.95`;
  assert.equal((await limit.consume('ip:198.51.100.95', 1)).allowed, true);
  await limit.sync();
  assert.equal(await redis.get(counter), '1');
  assert.ok((await redis.pttl(counter)) > 55_000);
  // Redis dropped it (expired a little before this replica's view of the window, or evicted):
  // the next sync does not ask for the window again, and must still not leave a counter without one.
  await redis.del(counter);
  limit.consume('ip:198.51.100.95', 1);
  await limit.sync();
  assert.equal(await redis.get(counter), '1');
  const ttl = await redis.pttl(counter);
  assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
  // The per-request limiter counts on the same counter.
  const res = await exact.consume('ip:198.51.100.95', 1);
  assert.equal(res.consumedPoints, 2);
});
