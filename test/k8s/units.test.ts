/** Unit tests of the chart rules that manifests alone cannot show: refusals and arithmetic. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPinnedImage, imageRef } from '../../charts-ts/lib/image.js';
import { shutdownPlan } from '../../charts-ts/lib/shutdown.js';
import { SERVICES, assertValidServices } from '../../charts-ts/services.js';
import { loadEnvironments, synthEnvironment } from '../../charts-ts/synth.js';
import { allRenderings, ofKind, parseManifests, workloads } from './manifests.js';

describe('image references', () => {
  test('when the tag is latest or missing, then synthesis refuses it', () => {
    assert.throws(() => assertPinnedImage('ghcr.io/example/shop:latest'), /latest/);
    assert.throws(() => assertPinnedImage('ghcr.io/example/shop'), /no tag/);
    assert.throws(() => assertPinnedImage('localhost:5000/shop'), /no tag/);
  });
  test('when pinned by tag or digest, then it is accepted', () => {
    assert.equal(assertPinnedImage('localhost:5000/shop:0.1.0'), 'localhost:5000/shop:0.1.0');
    assert.ok(assertPinnedImage(`ghcr.io/example/shop@sha256:${'a'.repeat(64)}`));
  });
  test('when a settings digest is given, then the image is pinned as name:tag@digest; a malformed digest is refused', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    assert.equal(imageRef('redis:7.4.2', digest), `redis:7.4.2@${digest}`);
    assert.equal(imageRef('redis:7.4.2'), 'redis:7.4.2');
    assert.throws(() => imageRef('redis:7.4.2', 'sha256:abc'), /64 hex/);
    assert.throws(() => imageRef(`redis@${digest}`, digest), /already has a digest/);
  });
  test('when IMAGE overrides the settings, then every shop container uses it', async () => {
    const [env] = await loadEnvironments();
    const objects = [...synthEnvironment(env!, { image: 'registry.local/shop:9.9.9' }).values()].flatMap(parseManifests);
    const images = workloads(objects).filter((w) => w.object.kind === 'Deployment').map((w) => w.pod.containers[0].image);
    assert.ok(images.length > 0 && images.every((i) => i === 'registry.local/shop:9.9.9'));
  });
});

describe('shutdown arithmetic', () => {
  const s = { preStopSleepSeconds: 5, shutdownDelayMs: 5000, shutdownTimeoutMs: 20000, jobGraceMs: 60000, marginSeconds: 5 };
  test('HTTP: grace = preStop + ceil((delay + timeout) / 1000) + margin', () => {
    assert.equal(shutdownPlan(s, 'http').terminationGracePeriodSeconds, 35);
    assert.deepEqual(shutdownPlan(s, 'http').env, { SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '20000' });
  });
  test('worker: no preStop, grace = ceil((job grace + timeout) / 1000) + margin', () => {
    const plan = shutdownPlan(s, 'worker');
    assert.equal(plan.preStopSleepSeconds, 0);
    assert.equal(plan.terminationGracePeriodSeconds, 85);
    assert.equal(plan.env.JOB_GRACE_MS, '60000');
  });
  test('when a timing is negative, then it is refused', () => {
    assert.throws(() => shutdownPlan({ ...s, shutdownTimeoutMs: -1 }, 'http'));
  });
});

describe('service list', () => {
  test('the deployed list is valid', () => assert.doesNotThrow(() => assertValidServices(SERVICES)));
  test('when a service calls one that is not deployed, then synthesis refuses', () => {
    assert.throws(() => assertValidServices([{ name: 'cart', kind: 'http', publicPathPrefixes: [], calls: ['checkout'], secrets: [] }]), /not deployed/);
  });
  test('when a worker has public paths, then synthesis refuses', () => {
    assert.throws(() => assertValidServices([{ name: 'fulfillment', kind: 'worker', publicPathPrefixes: ['/x'], calls: [], secrets: [] }]), /worker/);
  });
});

describe('namespace guard rails', async () => {
  for (const r of await allRenderings()) {
    test(`${r.label}: the quota admits every workload at its maximum, and the LimitRange admits every container`, () => {
      const quota = ofKind(r.objects, 'ResourceQuota')[0]!;
      const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
      const mem = (q: string) => Number(q.replace(/Mi$/, ''));
      let cpuLimit = 0;
      let memory = 0;
      let pods = 0;
      for (const w of workloads(r.objects)) {
        const hpa = ofKind(r.objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === w.object.metadata.name);
        const n = hpa?.spec.maxReplicas ?? w.object.spec.replicas ?? 1;
        pods += n;
        for (const c of w.pod.containers) {
          cpuLimit += n * cpu(c.resources.limits.cpu);
          memory += n * mem(c.resources.limits.memory);
          const max = ofKind(r.objects, 'LimitRange')[0]!.spec.limits[0].max;
          assert.ok(cpu(c.resources.limits.cpu) <= cpu(max.cpu) && mem(c.resources.limits.memory) <= mem(max.memory), c.name);
        }
      }
      assert.ok(cpu(quota.spec.hard['limits.cpu']) >= cpuLimit, 'limits.cpu');
      assert.ok(mem(quota.spec.hard['limits.memory']) >= memory, 'limits.memory');
      assert.ok(quota.spec.hard.pods >= pods, 'pods');
    });
  }
});
