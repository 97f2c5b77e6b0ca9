import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS, judge, oversoldUnits, type VerdictInput } from '../../scripts/lib/gameday/verdict.js';
import { renderHtml } from '../../scripts/lib/gameday/report.js';

const clean: VerdictInput = { acknowledged: ['o1', 'o2'], persisted: ['o1', 'o2'], duplicateCharges: 0, oversoldUnits: 0, stockInvariantOk: true, successRate: 0.9995, recoveries: [4.2, 12], unrecovered: 0, requests: 1000 };

test('a clean run passes with the default thresholds', () => {
  const verdict = judge(clean);
  assert.equal(verdict.verdict, 'pass', verdict.reasons.join('; '));
  assert.equal(verdict.recoveryMaxS, 12);
});

test('one acknowledged order missing from the database fails the verdict and is named', () => {
  const verdict = judge({ ...clean, persisted: ['o1'] });
  assert.equal(verdict.verdict, 'fail');
  assert.deepEqual(verdict.lost, ['o2']);
  assert.match(verdict.reasons.join(), /1 acknowledged order\(s\) not in the database/);
});

test('one order charged twice fails the verdict', () => {
  const verdict = judge({ ...clean, duplicateCharges: 1 });
  assert.equal(verdict.verdict, 'fail');
  assert.match(verdict.reasons.join(), /charged more than once/);
});

test('one oversold unit fails the verdict', () => {
  assert.equal(oversoldUnits({ initial: 20, adjustments: 0, available: 0, reserved: 1, sold: 20 }), 1);
  assert.equal(oversoldUnits({ initial: 20, adjustments: 0, available: -2, reserved: 0, sold: 0 }), 2);
  assert.equal(oversoldUnits({ initial: 20, adjustments: 5, available: 0, reserved: 5, sold: 20 }), 0);
  const verdict = judge({ ...clean, oversoldUnits: 1 });
  assert.equal(verdict.verdict, 'fail');
  assert.match(verdict.reasons.join(), /1 unit\(s\) oversold/);
});

test('an inventory invariant that could not be checked fails the verdict, as a broken one does', () => {
  const unchecked = judge({ ...clean, stockInvariantOk: undefined });
  assert.equal(unchecked.verdict, 'fail');
  assert.match(unchecked.reasons.join(), /inventory invariant could not be checked/);
  assert.match(judge({ ...clean, stockInvariantOk: false }).reasons.join(), /inventory invariant does not hold/);
});

test('success below 99.9 %, a slow or missing recovery, a broken invariant or no traffic each fail it', () => {
  assert.equal(judge({ ...clean, successRate: 0.998 }).verdict, 'fail');
  assert.equal(judge({ ...clean, recoveries: [31] }).verdict, 'fail');
  assert.equal(judge({ ...clean, unrecovered: 1 }).verdict, 'fail');
  assert.equal(judge({ ...clean, stockInvariantOk: false }).verdict, 'fail');
  assert.equal(judge({ ...clean, requests: 0 }).verdict, 'fail');
  assert.equal(judge({ ...clean, successRate: 0.998 }, { ...DEFAULT_THRESHOLDS, minSuccessRate: 0.99 }).verdict, 'pass', 'thresholds are configurable');
});

test('the HTML report is self-contained and marks each chaos event on the chart', () => {
  const html = renderHtml({
    mode: 'local', startedAt: '2026-11-27T10:00:00.000Z', durationS: 3, targetRps: 10,
    requests: { total: 3, ok: 3, failed: 0, byStatus: { 200: 3 }, unavailable: 0, attempts: 3, retries: 0 },
    latencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
    checkout: { available: false, acknowledged: 0, persisted: 0, lost: 0, lostIds: [], duplicateCharges: 0, shipped: 0, declined: 0, failedAfterRetries: 0, ordersByStatus: {} },
    inventory: { oversoldUnits: 0, oversoldSkus: [], invariantOk: true },
    chaos: { kills: 1, faults: 1, refusals: 0, events: [{ at: 'x', t: 1, kind: 'action', action: 'kill', target: 'cart-0', detail: '<SIGKILL>' }, { at: 'y', t: 2, kind: 'fault', action: 'stop', target: 'redis', detail: 'down' }] },
    recoveryS: { max: 1, each: [1], unrecovered: 0 }, slo: { successRate: 1, target: 0.999, met: true }, queues: {}, thresholds: DEFAULT_THRESHOLDS, endpoints: {},
    timeline: [{ t: 0, requests: 1, failed: 0, p99: 3 }, { t: 1, requests: 1, failed: 0, p99: 3 }, { t: 2, requests: 1, failed: 0, p99: 3 }],
    notices: [], reasons: [], verdict: 'pass',
  });
  assert.doesNotMatch(html, /<script|src=|href=/);
  assert.equal((html.match(/stroke-dasharray/g) ?? []).length, 6, 'two events in each of the three panels');
  assert.match(html, /&#60;SIGKILL&#62;/, 'event text is escaped');
});
