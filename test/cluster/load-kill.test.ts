/** How the cluster's pod-kill-under-load check counts requests (scripts/cluster/load-kill.ts): a storefront that retries once. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECTION_ERROR, outcome, retryable, signature, tally } from '../../scripts/cluster/load-kill.js';

describe('pod kill under load: the retrying client', () => {
  test('502, 503, 504 and connection errors are retried; application answers are not', () => {
    for (const a of ['502 text/plain', '503 text/plain', '504 text/plain', '503', CONNECTION_ERROR]) assert.equal(retryable(a), true, a);
    for (const a of ['200', '404', '404 text/plain', '500', '401']) assert.equal(retryable(a), false, a);
  });

  test("a JSON answer is the service's; anything else is named by its content type (the edge made it)", () => {
    assert.equal(signature(200, 'application/json; charset=utf-8'), '200');
    assert.equal(signature(404, 'application/problem+json'), '404');
    assert.equal(signature(404, 'text/plain; charset=utf-8'), '404 text/plain');
    assert.equal(signature(503, null), '503 no content-type');
  });

  test('a request whose retry gets the expected answer counts as retried, not failed', () => {
    assert.equal(outcome(['200'], '200'), 'ok');
    assert.equal(outcome(['502 text/plain', '200'], '200'), 'retried');
    assert.equal(outcome([CONNECTION_ERROR, '200'], '200'), 'retried');
  });

  test('a request fails when its retry fails too, or when the edge answers 404 instead of the service', () => {
    assert.equal(outcome(['503 text/plain', '503 text/plain'], '200'), 'failed');
    assert.equal(outcome(['404 text/plain'], '401'), 'failed');
    assert.equal(outcome(['404 text/plain'], '404'), 'failed');
  });

  test('the tally counts each request once and lists every unexpected attempt', () => {
    const t = tally([['200'], ['502 text/plain', '200'], ['503 text/plain', '503 text/plain'], ['200']], '200');
    assert.deepEqual(t, { requests: 4, ok: 2, retried: 1, failed: 1, errors: { '502 text/plain': 1, '503 text/plain': 2 } });
  });
});
