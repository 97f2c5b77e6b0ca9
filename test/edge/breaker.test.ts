import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, createHttpClient } from '../../services/kit/index.js';
import { testObservability } from '../helpers/env.js';
import { metricValue } from './helpers.js';

test('when a dependency keeps failing, then the breaker opens (calls stop reaching it, gauge 1) and closes again once it recovers (gauge 0)', async () => {
  let healthy = false;
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: healthy, ua: req.headers['user-agent'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { logger, metrics } = testObservability('breaker');
  const client = createHttpClient({ name: 'dep', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logger, metrics, retries: 0, breakerThreshold: 3, halfOpenAfterMs: 200 });
  try {
    assert.equal(await metricValue(metrics, 'http_client_breaker_state', { callee: 'dep' }), 0);
    for (let i = 0; i < 3; i += 1) await assert.rejects(client.call({ path: '/x' }), (error: unknown) => error instanceof AppError && error.status === 503);
    assert.equal(hits, 3);
    assert.equal(await metricValue(metrics, 'http_client_breaker_state', { callee: 'dep' }), 1);
    await assert.rejects(client.call({ path: '/x' }), (error: unknown) => error instanceof AppError && error.status === 503);
    assert.equal(hits, 3, 'an open breaker does not call the dependency');

    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    const response = await client.call<{ ok: boolean; ua: string }>({ path: '/x' });
    assert.equal(response.body.ok, true);
    assert.equal(response.body.ua, 'shop-dep-client');
    assert.equal(await metricValue(metrics, 'http_client_breaker_state', { callee: 'dep' }), 0);
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
