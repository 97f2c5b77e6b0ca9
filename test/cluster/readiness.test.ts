/** The cluster's readiness wait (scripts/cluster/readiness.ts), over pod status snapshots as the API returns them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enoughReady, isPodReady, readyPodNames, type PodSnapshot } from '../../scripts/cluster/readiness.js';

const kubeletStartedAt = Date.parse('2026-11-30T20:00:10.600Z');
const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'); // the API's second precision

function pod(name: string, o: { startedAt?: number; ready?: boolean; phase?: string; deleting?: boolean; containers?: number } = {}): PodSnapshot {
  const ready = o.ready ?? true;
  const started = o.startedAt ?? kubeletStartedAt + 5000;
  return {
    metadata: { name, ...(o.deleting ? { deletionTimestamp: iso(kubeletStartedAt + 9000) } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: Array.from({ length: o.containers ?? 1 }, (_, i) => ({ name: `c${i}`, ready, state: { running: { startedAt: iso(started) } } })),
    },
  };
}

describe('cluster readiness wait (state, not event)', () => {
  test('a pod the kubelet brought back Ready before the wait began counts as ready (warm restart)', () => {
    // Ready 5 s after the kubelet started; the wait for it might begin 40 s later: still ready.
    assert.equal(isPodReady(pod('traefik-1', { startedAt: kubeletStartedAt + 5000 }), kubeletStartedAt), true);
  });

  test('Ready status left over from the previous run (container older than this kubelet) does not count', () => {
    assert.equal(isPodReady(pod('traefik-1', { startedAt: kubeletStartedAt - 3_600_000 }), kubeletStartedAt), false);
  });

  test('a container started in the same second as the kubelet counts (startedAt has second precision)', () => {
    assert.equal(isPodReady(pod('coredns-1', { startedAt: kubeletStartedAt }), kubeletStartedAt), true);
  });

  test('a pod that is not Ready, not Running, terminating, or has no container status is not ready', () => {
    assert.equal(isPodReady(pod('a', { ready: false }), kubeletStartedAt), false);
    assert.equal(isPodReady(pod('b', { phase: 'Pending' }), kubeletStartedAt), false);
    assert.equal(isPodReady(pod('c', { deleting: true }), kubeletStartedAt), false);
    assert.equal(isPodReady({ metadata: { name: 'd' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, kubeletStartedAt), false);
    assert.equal(isPodReady({ metadata: { name: 'e' } }, kubeletStartedAt), false);
  });

  test('a pod with one container not yet running in this incarnation is not ready', () => {
    const p = pod('web', { containers: 2 });
    p.status!.containerStatuses![1]!.state = { running: { startedAt: iso(kubeletStartedAt - 60_000) } };
    assert.equal(isPodReady(p, kubeletStartedAt), false);
    p.status!.containerStatuses![1]!.state = {};
    assert.equal(isPodReady(p, kubeletStartedAt), false);
  });

  test('the wait for 2 replicas holds until 2 pods are ready now, ignoring stale and terminating ones', () => {
    const stale = pod('cart-old', { startedAt: kubeletStartedAt - 120_000 });
    const fresh = pod('cart-new');
    const leaving = pod('cart-leaving', { deleting: true });
    assert.equal(enoughReady([stale, fresh, leaving], kubeletStartedAt, 2), false);
    assert.deepEqual(readyPodNames([stale, fresh, leaving], kubeletStartedAt), ['cart-new']);
    assert.equal(enoughReady([fresh, pod('cart-2')], kubeletStartedAt, 2), true);
    assert.equal(enoughReady([], kubeletStartedAt), false);
  });
});
