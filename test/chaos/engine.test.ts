import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos, RefusedError, type ChaosBackend } from '../../scripts/lib/chaos/engine.js';
import type { Target } from '../../scripts/lib/chaos/plan.js';

/** A fake cluster: a pod list and a record of every call (no Mongo or Redis involved). */
function fakeBackend(options: { refuse?: boolean } = {}) {
  const calls: string[] = [];
  let generation = 0;
  const pods: Target[] = ['a', 'b'].flatMap((w) => [0, 1].map((i) => ({ name: `${w}-${i}`, namespace: 'shop', workload: w, uid: `${w}-${i}-0`, labels: { app: w }, ready: true, terminating: false })));
  const backend: ChaosBackend = {
    mode: 'kubernetes',
    list: async () => pods.map((p) => ({ ...p })),
    async act(target, action) {
      calls.push(`${action} ${target.name}`);
      if (options.refuse) throw new RefusedError('Cannot evict pod as it would violate the pod\'s disruption budget.');
      const pod = pods.find((p) => p.name === target.name)!;
      generation += 1;
      pod.uid = `${pod.name}-${generation}`; // replaced at once, ready: recovery is immediate
      return 'deleted';
    },
    async fault(component) {
      calls.push(`fault ${component}`);
    },
  };
  return { backend, calls };
}

const base = { actions: ['delete' as const], intervalMs: 50, jitter: 0, count: 1, radius: { maxDown: 1 }, durationMs: 400, log: () => undefined };

test('a dry run lists what it would do and calls nothing on the backend', async () => {
  const { backend, calls } = fakeBackend();
  const result = await runChaos(backend, { ...base, dryRun: true, faults: [{ component: 'redis', atMs: 10, downMs: 10 }] });
  assert.deepEqual(calls, []);
  assert.equal(result.kills, 0);
  assert.ok(result.events.length >= 2);
  assert.ok(result.events.every((e) => e.kind === 'dry-run'), JSON.stringify(result.events));
  assert.ok(result.events.some((e) => /would delete shop\/[ab]-[01]/.test(e.detail)));
});

test('a real run acts, logs one line per action with a timestamp, and times each recovery', async () => {
  const { backend, calls } = fakeBackend();
  const lines: string[] = [];
  const result = await runChaos(backend, { ...base, dryRun: false, log: (l) => lines.push(l) });
  assert.ok(result.kills >= 2, `kills ${result.kills}`);
  assert.equal(calls.length, result.kills);
  assert.equal(result.recoveries.length, result.kills);
  assert.equal(result.unrecovered, 0);
  assert.ok(lines.filter((l) => / chaos action /.test(l)).every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /.test(l)));
});

test('an eviction refused by a disruption budget is reported as refused, not counted as a kill', async () => {
  const { backend } = fakeBackend({ refuse: true });
  const result = await runChaos(backend, { ...base, actions: ['evict'], dryRun: false });
  assert.equal(result.kills, 0);
  assert.ok(result.refusals >= 1);
  assert.ok(result.events.every((e) => e.kind === 'refused' && /disruption budget/.test(e.detail)));
});

test('the run aborts when the probe fails and stops acting', async () => {
  const { backend, calls } = fakeBackend();
  // Port 9 (discard) on loopback: nothing listens, every probe fails at once.
  const result = await runChaos(backend, { ...base, intervalMs: 2_000, durationMs: 10_000, dryRun: false, probe: { url: 'http://127.0.0.1:9/', rule: { threshold: 0.9, windowMs: 10_000, minSamples: 3 } } });
  assert.match(result.aborted ?? '', /probe success 0\.0 %/);
  assert.deepEqual(calls, [], 'aborted before the first round');
  assert.equal(result.events.at(-1)?.kind, 'abort');
});
