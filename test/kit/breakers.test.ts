import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokenCircuitError } from 'cockatiel';
import { AppError, badRequest, connectRedis, createHttpClient, createRedis, isCallerError, neverSent, SharedCache } from '../../services/kit/index.js';
import { testLogger, testServers, uniqueName } from '../helpers/env.js';

test('errors are classified: 4xx, validation and cast errors are the caller\'s; outages and bugs are not', () => {
  assert.equal(isCallerError(badRequest('x')), true);
  assert.equal(isCallerError(Object.assign(new Error('cast'), { name: 'CastError' })), true);
  assert.equal(isCallerError(Object.assign(new Error('invalid'), { name: 'ValidationError' })), true);
  assert.equal(isCallerError(Object.assign(new Error('nope'), { status: 404, expose: true })), true);
  assert.equal(isCallerError(Object.assign(new Error('down'), { status: 503 })), false);
  assert.equal(isCallerError(Object.assign(new Error('gone'), { name: 'MongoNetworkError' })), false);
  assert.equal(isCallerError(new TypeError('bug')), false);
});

test('when a cache load fails with caller errors again and again, then the breaker stays closed and the next load runs', async () => {
  const { redisUrl } = testServers();
  const logger = testLogger();
  const redis = await connectRedis(createRedis(redisUrl, logger));
  const subscriber = await connectRedis(createRedis(redisUrl, logger, { enableOfflineQueue: true, commandTimeout: undefined }));
  const cache = new SharedCache<string>({ name: uniqueName(import.meta.url), redis, subscriber, logger });
  await cache.start();
  try {
    for (let i = 0; i < 5; i++) {
      await assert.rejects(cache.get(`bad-${i}`, () => Promise.reject(badRequest('bad cursor'))), (error: unknown) => isCallerError(error));
      await assert.rejects(cache.get(`cast-${i}`, () => Promise.reject(Object.assign(new Error('Cast to date failed'), { name: 'CastError' }))), { name: 'CastError' });
    }
    const ok = await cache.get('good', async () => 'loaded');
    assert.equal(ok.value, 'loaded');
    // Dependency failures still open it.
    for (let i = 0; i < 3; i++) await assert.rejects(cache.get(`down-${i}`, () => Promise.reject(Object.assign(new Error('connection refused'), { name: 'MongoNetworkError' }))));
    await assert.rejects(cache.get('after-outage', async () => 'never'), (error: unknown) => error instanceof BrokenCircuitError);
  } finally {
    await cache.stop();
    await Promise.all([redis.quit(), subscriber.quit()]);
  }
});

test('when a callee answers 4xx again and again, then the HTTP client\'s breaker stays closed', async () => {
  let answer = 404;
  const server = http.createServer((_req, res) => {
    res.writeHead(answer, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: answer }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = createHttpClient({ name: 'thing', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logger: testLogger(), breakerThreshold: 2, retries: 0 });
  try {
    for (const status of [400, 404, 409, 422, 404, 400]) {
      answer = status;
      assert.equal((await client.call({ path: '/x' })).status, status);
    }
    answer = 200;
    assert.equal((await client.call({ path: '/x' })).status, 200);
  } finally {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('when an attempt went out and the breaker then refused its retry, then the call is not "never sent"; a call the open breaker refused outright is', async () => {
  let seen = 0;
  // Never answers: every attempt reaches the server and then times out.
  const server = http.createServer(() => {
    seen += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = createHttpClient({ name: 'slow', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logger: testLogger(), timeoutMs: 100, retries: 2, breakerThreshold: 1, halfOpenAfterMs: 60_000 });
  try {
    const first = await client.call({ method: 'POST', path: '/holds', body: {}, idempotent: true }).then(() => null, (error: unknown) => error);
    assert.ok(first instanceof AppError && first.status === 503, 'a timed-out call answers 503');
    assert.equal(seen, 1, 'one attempt reached the server before the breaker opened');
    // The server may have acted on it: the caller must undo it (release the hold), so it is not "never sent".
    assert.equal(neverSent(first), false);
    const second = await client.call({ method: 'POST', path: '/holds', body: {}, idempotent: true }).then(() => null, (error: unknown) => error);
    assert.ok(second instanceof AppError && second.status === 503);
    assert.equal(seen, 1, 'the open breaker sent nothing');
    assert.equal(neverSent(second), true);
  } finally {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
