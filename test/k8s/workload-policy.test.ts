/** Policy tests over the synthesized YAML: one assertion per rule, every workload, every environment. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allRenderings, ofKind, selects, workloads, type Rendered, type Workload } from './manifests.js';

const renderings = await allRenderings();
const isProd = (r: Rendered) => r.settings.name === 'prod';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const containers = (w: Workload): any[] => [...(w.pod.initContainers ?? []), ...w.pod.containers];
const isShop = (w: Workload) => w.object.kind === 'Deployment';

/** Pods allowed to be disrupted by a PDB at a given replica count. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function allowedDisruptions(pdb: any, replicas: number): number {
  const pct = (v: number | string, roundUp: boolean) =>
    typeof v === 'number' ? v : (roundUp ? Math.ceil : Math.floor)((parseInt(v, 10) / 100) * replicas);
  if (pdb.spec.maxUnavailable !== undefined) return pct(pdb.spec.maxUnavailable, true);
  return replicas - pct(pdb.spec.minAvailable, true);
}

for (const r of renderings) {
  describe(`${r.label}`, () => {
    for (const w of workloads(r.objects)) {
      const name = `${w.object.kind}/${w.object.metadata.name}`;
      describe(name, () => {
        test('every container has cpu and memory requests and limits', () => {
          for (const c of containers(w)) {
            for (const k of ['requests', 'limits']) for (const res of ['cpu', 'memory']) assert.ok(c.resources?.[k]?.[res], `${c.name} ${k}.${res}`);
          }
        });
        test('runs as non-root with an explicit non-zero uid (above 10000 for the shop image)', () => {
          for (const c of containers(w)) {
            const sc = { ...w.pod.securityContext, ...c.securityContext };
            assert.equal(sc.runAsNonRoot, true, c.name);
            assert.ok(sc.runAsUser > (isShop(w) ? 10000 : 0), `${c.name} runAsUser ${sc.runAsUser}`);
          }
        });
        test('has a read-only root filesystem', () => {
          for (const c of containers(w)) assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
        });
        test('drops all capabilities and cannot escalate privileges', () => {
          for (const c of containers(w)) {
            assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
            assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
          }
        });
        test('uses the RuntimeDefault seccomp profile', () => {
          assert.equal(w.pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
        });
        test('pins its image by tag or digest, never latest', () => {
          for (const c of containers(w)) {
            assert.match(c.image, /(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/, c.image);
            assert.doesNotMatch(c.image, /:latest$/, c.image);
          }
        });
        test('does not mount a service account token', () => {
          assert.equal(w.pod.automountServiceAccountToken, false);
        });
        test('every mounted volume is declared, and writable paths are volumes (emptyDir or PVC)', () => {
          const declared = new Set([...(w.pod.volumes ?? []).map((v: { name: string }) => v.name), ...(w.object.spec.volumeClaimTemplates ?? []).map((v: { metadata: { name: string } }) => v.metadata.name)]);
          for (const c of containers(w)) for (const m of c.volumeMounts ?? []) assert.ok(declared.has(m.name), m.name);
        });

        if (w.object.kind === 'Job') return;

        test('has startup, readiness and liveness probes, and readiness differs from liveness', () => {
          const c = w.pod.containers[0];
          assert.ok(c.startupProbe && c.readinessProbe && c.livenessProbe);
          assert.notDeepEqual(c.readinessProbe, c.livenessProbe);
        });
        test('a PodDisruptionBudget selects its pods and allows at least one disruption at the minimum replica count', () => {
          const pdbs = ofKind(r.objects, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector, w.podLabels));
          assert.equal(pdbs.length, 1);
          const hpa = ofKind(r.objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === w.object.metadata.name);
          const min = hpa ? hpa.spec.minReplicas : w.object.spec.replicas;
          assert.ok(allowedDisruptions(pdbs[0], min) >= 1, `min ${min}`);
        });
        test('the PodDisruptionBudget keeps at least one pod available at the minimum replica count', () => {
          const pdb = ofKind(r.objects, 'PodDisruptionBudget').find((p) => selects(p.spec.selector, w.podLabels));
          const hpa = ofKind(r.objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === w.object.metadata.name);
          const min = hpa ? hpa.spec.minReplicas : w.object.spec.replicas;
          if (!isShop(w) && min < 2) return; // a single-member store cannot keep one while allowing one
          assert.ok(min - allowedDisruptions(pdb, min) >= 1, `min ${min}, allowed ${allowedDisruptions(pdb, min)}`);
        });
        if (isProd(r)) {
          test('prod: spreads over nodes and zones', () => {
            const keys = (w.pod.topologySpreadConstraints ?? []).map((t: { topologyKey: string }) => t.topologyKey);
            assert.ok(keys.includes('kubernetes.io/hostname') && keys.includes('topology.kubernetes.io/zone'), keys.join());
          });
        }
        if (!isShop(w)) return;

        test('probes use the kit endpoints: readiness /readyz, liveness and startup /healthz', () => {
          const c = w.pod.containers[0];
          assert.equal(c.readinessProbe.httpGet.path, '/readyz');
          assert.equal(c.livenessProbe.httpGet.path, '/healthz');
          assert.equal(c.startupProbe.httpGet.path, '/healthz');
        });
        test('has an HPA on cpu and memory with a minimum of at least 2 (a pod kill leaves an endpoint) and fast scale-up', () => {
          const hpa = ofKind(r.objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === w.object.metadata.name);
          assert.ok(hpa);
          assert.ok(hpa.spec.minReplicas >= 2, `minReplicas ${hpa.spec.minReplicas}`);
          assert.deepEqual(hpa.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name).sort(), ['cpu', 'memory']);
          assert.equal(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds, 0);
          assert.equal(w.object.spec.replicas, undefined, 'replicas is owned by the HPA');
        });
        test('grace period covers preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS (+ JOB_GRACE_MS for workers)', () => {
          const c = w.pod.containers[0];
          const cm = ofKind(r.objects, 'ConfigMap').find((m) => m.metadata.name === c.envFrom[0].configMapRef.name)!;
          const preStop = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
          const ms = Number(cm.data!.SHUTDOWN_DELAY_MS) + Number(cm.data!.SHUTDOWN_TIMEOUT_MS) + Number(cm.data!.JOB_GRACE_MS ?? 0);
          assert.ok(w.pod.terminationGracePeriodSeconds > preStop + ms / 1000, `${w.pod.terminationGracePeriodSeconds}s`);
        });
        test('has its own ServiceAccount with token automount off', () => {
          const sa = ofKind(r.objects, 'ServiceAccount').find((s) => s.metadata.name === w.pod.serviceAccountName);
          assert.equal(w.pod.serviceAccountName, w.object.metadata.name);
          assert.equal((sa as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken, false);
        });
        test('takes config from a ConfigMap and secrets only by Secret reference', () => {
          const c = w.pod.containers[0];
          assert.ok(c.envFrom.some((e: { configMapRef?: unknown }) => e.configMapRef));
          for (const e of c.env ?? []) assert.ok(e.valueFrom?.secretKeyRef && !('value' in e), e.name);
          assert.equal(ofKind(r.objects, 'Secret').length, 0, 'no Secret objects in the manifests');
        });
        test('exposes no Service when it is a worker, exactly one when it serves HTTP', () => {
          const svcs = ofKind(r.objects, 'Service').filter((s) => selects({ matchLabels: s.spec.selector }, w.podLabels));
          const isWorker = w.podLabels['app.kubernetes.io/component'] === 'worker';
          assert.equal(svcs.length, isWorker ? 0 : 1);
        });
      });
    }
  });
}
