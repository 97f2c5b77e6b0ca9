/**
 * Rules from the strict review of k8s/prod (issue 14), one test per rule, over every rendering:
 * headless governing Services, readiness that differs from liveness in what it checks,
 * ephemeral-storage on every container, digest-pinned data tier in prod, high uids in prod,
 * and no single-replica stateful component on the request path in prod.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allRenderings, ofKind, selects, workloads, type Rendered, type Workload } from './manifests.js';

const renderings = await allRenderings();
const isProd = (r: Rendered) => r.settings.name === 'prod';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const allContainers = (w: Workload): any[] => [...(w.pod.initContainers ?? []), ...w.pod.containers];
const isDataTier = (w: Workload) => w.object.kind === 'StatefulSet' || w.podLabels['app.kubernetes.io/name'] === 'mongo-initiate';
/** What a probe does, without its timing: exec command, HTTP path and port, or TCP port. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const action = (probe: any) => JSON.stringify(probe.exec ?? probe.httpGet ?? probe.tcpSocket ?? probe.grpc);

for (const r of renderings) {
  describe(`${r.label}: data tier and container rules`, () => {
    for (const set of ofKind(r.objects, 'StatefulSet')) {
      test(`StatefulSet/${set.metadata.name}: its governing Service is headless and selects its pods`, () => {
        const svc = ofKind(r.objects, 'Service').find((s) => s.metadata.name === set.spec.serviceName);
        assert.ok(svc, `Service ${set.spec.serviceName}`);
        assert.equal(svc.spec.clusterIP, 'None');
        assert.ok(selects({ matchLabels: svc.spec.selector }, set.spec.template.metadata.labels));
      });
    }

    for (const w of workloads(r.objects)) {
      const name = `${w.object.kind}/${w.object.metadata.name}`;
      test(`${name}: every container, init containers included, sets ephemeral-storage requests and limits`, () => {
        for (const c of allContainers(w)) {
          const req = c.resources?.requests?.['ephemeral-storage'];
          const lim = c.resources?.limits?.['ephemeral-storage'];
          assert.ok(req && lim, c.name);
          assert.ok(parseInt(req, 10) <= parseInt(lim, 10), `${c.name} ${req} <= ${lim}`);
        }
      });
      if (w.object.kind !== 'Job') {
        test(`${name}: every probed container's readiness checks something other than its liveness`, () => {
          for (const c of w.pod.containers) {
            assert.ok(c.readinessProbe && c.livenessProbe, c.name);
            assert.notEqual(action(c.readinessProbe), action(c.livenessProbe), c.name);
          }
        });
      }
      if (isProd(r)) {
        test(`${name}: prod runs every container with uid and gid above 10000`, () => {
          for (const c of allContainers(w)) {
            const sc = { ...w.pod.securityContext, ...c.securityContext };
            assert.ok(sc.runAsUser > 10000 && sc.runAsGroup > 10000, `${c.name} ${sc.runAsUser}:${sc.runAsGroup}`);
          }
        });
        if (isDataTier(w)) {
          test(`${name}: prod pins data-tier images by digest`, () => {
            for (const c of allContainers(w)) assert.match(c.image, /@sha256:[a-f0-9]{64}$/, c.name);
          });
        }
      }
    }

    if (isProd(r) && r.settings.dataTier.mode === 'in-cluster') {
      test('prod: no StatefulSet runs a single replica', () => {
        for (const set of ofKind(r.objects, 'StatefulSet')) assert.ok(set.spec.replicas >= 3, `${set.metadata.name} ${set.spec.replicas}`);
      });
      test('prod: Redis runs 3 sentinels with quorum 2, spread one pod per node, and services are told where they are', () => {
        const redis = ofKind(r.objects, 'StatefulSet').find((s) => s.metadata.name === 'redis')!;
        const pod = redis.spec.template.spec;
        assert.equal(redis.spec.replicas, 3);
        assert.ok(pod.containers.some((c: { name: string }) => c.name === 'sentinel'));
        const env = Object.fromEntries(pod.initContainers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
        assert.equal(env.QUORUM, '2');
        assert.ok(pod.topologySpreadConstraints.some((t: { topologyKey: string; whenUnsatisfiable: string }) => t.topologyKey === 'kubernetes.io/hostname' && t.whenUnsatisfiable === 'DoNotSchedule'));
        const sentinels = ofKind(r.objects, 'ConfigMap').filter((m) => m.data?.SERVICE).map((m) => m.data!.REDIS_SENTINELS ?? '');
        assert.ok(sentinels.length > 0 && sentinels.every((s) => s.split(',').length === 3), sentinels.join(' | '));
        const aof = ofKind(r.objects, 'ConfigMap').find((m) => m.metadata.name === 'redis-scripts')!.data!['bootstrap.sh']!;
        assert.match(aof, /appendonly yes/);
      });
    }
  });
}
