import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createRefusalLog, ManualClock, type Refusal } from '../../services/kit/index.js';
import { capturedLogger, uniqueName } from '../helpers/env.js';
import { BROWSER, edgeApp, metricValue, testRedis } from './helpers.js';

const prefix = uniqueName(import.meta.url);
const redis = await testRedis();
after(() => redis.quit());

const scanner = (ip: string): Refusal => ({ decision: 'blocked_bad_bot', reason: 'signature:sqlmap', routeClass: 'browse', botClass: 'bad-bot', ip, method: 'GET', path: '/api/catalog/products/kettle' });

test('when one kind of refusal repeats within a window, then the first is logged at once and the rest become one line with their count and busiest addresses', () => {
  const { lines, logger } = capturedLogger('refusal-test');
  const clock = new ManualClock(1_000_000);
  // A window far longer than the test: only the clock and flush() close it.
  const log = createRefusalLog(logger, { clock, windowMs: 60_000 });
  log.record(scanner('198.51.100.1'));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.msg, 'edge blocked request');
  assert.equal(lines[0]?.reason, 'signature:sqlmap');
  assert.equal(lines[0]?.ip, '198.51.100.1');
  for (let i = 0; i < 9; i += 1) log.record(scanner(i < 6 ? '198.51.100.1' : '198.51.100.2'));
  assert.equal(lines.length, 1, 'repeats wait for the end of the window');
  log.flush();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.msg, 'edge refusals repeated');
  assert.equal(lines[1]?.count, 10);
  assert.equal(lines[1]?.reason, 'signature:sqlmap');
  assert.deepEqual(lines[1]?.addresses, [{ ip: '198.51.100.1', count: 7 }, { ip: '198.51.100.2', count: 3 }]);
  assert.equal(lines[1]?.distinctAddresses, 2);
});

test('when the window has passed, then the next refusal of the kind closes it with its summary and is logged at once again', () => {
  const { lines, logger } = capturedLogger('refusal-test');
  const clock = new ManualClock(1_000_000);
  const log = createRefusalLog(logger, { clock, windowMs: 60_000 });
  log.record(scanner('198.51.100.1'));
  log.record(scanner('198.51.100.1'));
  clock.advance(60_000);
  log.record(scanner('198.51.100.3'));
  assert.deepEqual(lines.map((line) => [line.msg, line.count ?? 1]), [['edge blocked request', 1], ['edge refusals repeated', 2], ['edge blocked request', 1]]);
  // Another kind has its own window; a lone refusal leaves no summary.
  log.record({ ...scanner('198.51.100.4'), decision: 'limited', reason: 'limit:browse' });
  log.flush();
  assert.deepEqual(lines.slice(3).map((line) => [line.msg, line.level]), [['edge rate-limited request', 30]]);
});

test('when many addresses repeat, then a summary names at most the busiest five and counts the addresses past its bound together', () => {
  const { lines, logger } = capturedLogger('refusal-test');
  const log = createRefusalLog(logger, { clock: new ManualClock(0), windowMs: 60_000, maxAddresses: 3 });
  for (let i = 0; i < 8; i += 1) log.record(scanner(`198.51.100.${i}`));
  log.flush();
  const summary = lines.find((line) => line.msg === 'edge refusals repeated');
  assert.equal(summary?.count, 8);
  assert.equal(summary?.distinctAddresses, 3);
  assert.equal(summary?.otherAddresses, 5);
});

test('when a flood of bad bots is refused, then every request is counted in metrics while the logs account for all of them in a few lines and the access log stays out', async () => {
  const { app, metrics, logs } = edgeApp({ redis, keyPrefix: `${prefix}:flood`, logLevel: 'info' });
  const server = request(app.callback());
  for (let i = 0; i < 20; i += 1) await server.get('/api/catalog/products/kettle').set('user-agent', 'sqlmap/1.7.2').set('x-forwarded-for', `198.51.100.${i % 4}`).expect(403);
  await server.get('/api/catalog/products/kettle').set('user-agent', BROWSER).set('x-forwarded-for', '198.51.100.50').expect(200);
  assert.equal(await metricValue(metrics, 'edge_requests_total', { bot_class: 'bad-bot', decision: 'blocked_bad_bot', route_class: 'browse' }), 20);
  // The repeats' line is written when its window (1 s) ends; wait for it rather than assume a duration.
  const edgeLines = () => logs.filter((line) => line.module === 'edge');
  const accounted = () => edgeLines().reduce((sum, line) => sum + (line.msg === 'edge refusals repeated' ? Number(line.count) - 1 : 1), 0);
  for (let waited = 0; accounted() < 20 && waited < 100; waited += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(accounted(), 20);
  assert.ok(edgeLines().length < 20);
  assert.equal(logs.filter((line) => line.status === 403).length, 0, 'no access-log line per refused request');
});
