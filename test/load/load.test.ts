import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, isMissingRoute, STOREFRONT_RETRY } from '../../scripts/lib/load/client.js';
import { parseLoadArgs, parseMix } from '../../scripts/lib/load/options.js';
import { pickKind, requestsPerSession, DEFAULT_MIX } from '../../scripts/lib/load/shopper.js';
import { isFailure, Recorder } from '../../scripts/lib/load/stats.js';
import { podTarget } from '../../scripts/lib/chaos/kube.js';

test('the load tool refuses a base URL that is not loopback', () => {
  assert.throws(() => parseLoadArgs(['--base-url', 'http://10.0.0.5:8080'], 'http://127.0.0.1:8080'), /not a loopback address/);
  assert.throws(() => parseLoadArgs(['--base-url', 'https://shop.example.com'], 'http://127.0.0.1:8080'), /not a loopback address/);
  const ok = parseLoadArgs(['--base-url', 'http://127.0.0.2:9000/', '--multiplier', '5'], 'http://127.0.0.1:8080');
  assert.ok(ok !== 'help');
  assert.equal(ok.baseUrl, 'http://127.0.0.2:9000');
  assert.equal(ok.rps, 100, '5 x the 20 ops/s baseline');
});

test('--rps and --multiplier together, a bad mix or a duration over an hour are refused', () => {
  assert.throws(() => parseLoadArgs(['--rps', '10', '--multiplier', '2'], 'http://127.0.0.1:8080'), /not both/);
  assert.throws(() => parseMix('browse=1,shoplift=3'), /--mix "shoplift=3"/);
  assert.throws(() => parseLoadArgs(['--duration', '2h'], 'http://127.0.0.1:8080'), /invalid --duration|at most 1h/);
});

test('session kinds follow their weights', () => {
  const counts = { browse: 0, cart: 0, checkout: 0, support: 0 };
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 10_000; i += 1) counts[pickKind(DEFAULT_MIX, random)] += 1;
  assert.ok(Math.abs(counts.browse / 10_000 - 0.6) < 0.03, JSON.stringify(counts));
  assert.ok(Math.abs(counts.support / 10_000 - 0.05) < 0.02, JSON.stringify(counts));
  assert.equal(pickKind({ browse: 0, cart: 0, checkout: 1, support: 0 }, Math.random), 'checkout');
  assert.ok(requestsPerSession(DEFAULT_MIX) > 3 && requestsPerSession(DEFAULT_MIX) < 8);
});

test('backoff is full jitter under an exponential cap', () => {
  assert.equal(backoffMs(1, STOREFRONT_RETRY, () => 1), 500);
  assert.equal(backoffMs(10, STOREFRONT_RETRY, () => 1), STOREFRONT_RETRY.capMs);
  assert.equal(backoffMs(3, STOREFRONT_RETRY, () => 0), 0);
});

test('a final 5xx, 429 or network error is a failure; a 4xx business answer is not; a missing route is unavailable', () => {
  assert.equal(isFailure('error'), true);
  assert.equal(isFailure(503), true);
  assert.equal(isFailure(429), true);
  assert.equal(isFailure(409), false);
  assert.equal(isMissingRoute({ type: 'urn:problem:edge_404' }), true);
  assert.equal(isMissingRoute({ type: 'about:blank', code: 'not_found' }), false, "a service's own 404 is an answer");
  const recorder = new Recorder();
  recorder.record('checkout', 404, 5, 1, true);
  recorder.record('cart.add', 503, 50, 6);
  recorder.record('cart.add', 201, 20, 2);
  const summary = recorder.summary(10);
  assert.equal(summary.requests.unavailable, 1);
  assert.equal(summary.requests.failed, 1);
  assert.equal(summary.successRate, 0.5, 'unavailable routes are left out of the success rate');
  assert.equal(summary.endpoints['cart.add']?.retries, 6);
  assert.equal(summary.timeline[0]?.requests, 3);
});

test('a Kubernetes pod maps to a target: readiness, terminating and workload from its labels', () => {
  const target = podTarget({
    metadata: { name: 'cart-7d9-abc', namespace: 'shop', uid: 'u1', labels: { 'app.kubernetes.io/name': 'cart', 'chaos.shop/opt-out': 'true' }, deletionTimestamp: new Date() },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  assert.deepEqual({ workload: target.workload, ready: target.ready, terminating: target.terminating, uid: target.uid }, { workload: 'cart', ready: true, terminating: true, uid: 'u1' });
  const notReady = podTarget({ metadata: { name: 'x', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'catalog-5f6', uid: 'r' }] }, status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  assert.equal(notReady.ready, false);
  assert.equal(notReady.workload, 'catalog-5f6');
});
