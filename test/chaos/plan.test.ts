import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedDown, isOptedOut, nextDelay, parseDuration, parseRadius, parseSelector, ProbeWindow, selectTargets, shouldAbort, type Target } from '../../scripts/lib/chaos/plan.js';

function pod(name: string, workload: string, extra: Partial<Target> = {}): Target {
  return { name, namespace: 'shop', workload, uid: `${name}-uid`, labels: { app: workload }, ready: true, terminating: false, ...extra };
}

const fleet = [pod('cart-a', 'cart'), pod('cart-b', 'cart'), pod('cart-c', 'cart'), pod('catalog-a', 'catalog'), pod('catalog-b', 'catalog')];
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test('a label selector keeps only the pods that carry every label', () => {
  const { chosen, skipped } = selectTargets(fleet, { selector: parseSelector('app=catalog'), count: 5, radius: { maxDown: 5 } }, seq(0.1));
  assert.deepEqual(chosen.map((t) => t.workload).sort(), ['catalog', 'catalog']);
  assert.equal(skipped.filter((s) => s.reason === 'not-selected').length, 3);
});

test('a pod with the opt-out label is never chosen, even when it is the only candidate', () => {
  const targets = [pod('cart-a', 'cart', { labels: { app: 'cart', 'chaos.shop/opt-out': 'true' } }), pod('cart-b', 'cart', { ready: false })];
  const optOut = { key: 'chaos.shop/opt-out', value: 'true' };
  assert.equal(isOptedOut(targets[0]!, optOut), true);
  const { chosen, skipped } = selectTargets(targets, { optOut, count: 2, radius: { maxDown: 2 } });
  assert.deepEqual(chosen, []);
  assert.deepEqual(skipped.map((s) => s.reason).sort(), ['not-ready', 'opted-out']);
});

test('blast radius of one pod per workload: never two pods of the same workload in a round', () => {
  for (let run = 0; run < 20; run += 1) {
    const { chosen } = selectTargets(fleet, { count: 5, radius: { maxDown: 1 } }, Math.random);
    const perWorkload = new Map<string, number>();
    for (const t of chosen) perWorkload.set(t.workload, (perWorkload.get(t.workload) ?? 0) + 1);
    assert.ok([...perWorkload.values()].every((n) => n <= 1), `run ${run}: ${chosen.map((t) => t.name).join(',')}`);
    assert.equal(chosen.length, 2);
  }
});

test('a pod already down counts against the blast radius, so its workload gets no further kill', () => {
  const targets = [pod('cart-a', 'cart', { ready: false }), pod('cart-b', 'cart'), pod('catalog-a', 'catalog'), pod('catalog-b', 'catalog')];
  const { chosen } = selectTargets(targets, { count: 4, radius: { maxDown: 1 } }, seq(0.5));
  assert.deepEqual(chosen.map((t) => t.workload), ['catalog']);
});

test('a percentage blast radius rounds down: 50 % of 3 pods allows 1 down, 50 % of 1 pod allows none', () => {
  assert.equal(allowedDown(3, { maxDownPercent: 50 }), 1);
  assert.equal(allowedDown(1, { maxDownPercent: 50 }), 0);
  assert.equal(allowedDown(10, { maxDown: 2, maxDownPercent: 50 }), 2);
  const { chosen } = selectTargets([pod('solo', 'search')], { count: 1, radius: { maxDownPercent: 50 } });
  assert.deepEqual(chosen, []);
});

test('count caps how many targets one round takes', () => {
  const { chosen } = selectTargets(fleet, { count: 1, radius: { maxDown: 3 } }, seq(0.3));
  assert.equal(chosen.length, 1);
});

test('the abort rule trips only with enough samples below the threshold', () => {
  const window = new ProbeWindow();
  const rule = { threshold: 0.9, windowMs: 10_000, minSamples: 5 };
  for (let i = 0; i < 4; i += 1) window.record(1000 + i, false);
  assert.equal(shouldAbort(window.rate(2000, rule.windowMs), rule), undefined, 'four samples are not enough to decide');
  window.record(1005, false);
  assert.match(shouldAbort(window.rate(2000, rule.windowMs), rule) ?? '', /probe success 0\.0 % < 90\.0 %/);
  for (let i = 0; i < 50; i += 1) window.record(20_000 + i, true);
  assert.equal(shouldAbort(window.rate(21_000, rule.windowMs), rule), undefined, 'old failures left the window');
});

test('jittered intervals stay within ± the jitter fraction', () => {
  assert.equal(nextDelay(10_000, 0.3, () => 0), 7_000);
  assert.equal(nextDelay(10_000, 0.3, () => 1), 13_000);
  assert.equal(nextDelay(10_000, 0, Math.random), 10_000);
});

test('bad selectors, durations and radii are refused with the option named', () => {
  assert.throws(() => parseSelector('app in (a,b)'), /invalid label selector/);
  assert.throws(() => parseDuration('soon', '--interval'), /invalid --interval/);
  assert.throws(() => parseRadius('half'), /--max-down/);
  assert.equal(parseDuration('2m', 'x'), 120_000);
  assert.deepEqual(parseRadius('25%'), { maxDownPercent: 25 });
});
