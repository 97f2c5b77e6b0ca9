/**
 * The gameday on a real cluster (`npm run cluster -- gameday`, or `npm run
 * gameday -- --kubernetes ...` against any cluster): shoppers through the
 * Ingress controller, chaos through the Kubernetes API (graceful deletes,
 * grace-0 kills and evictions that PodDisruptionBudgets may refuse), data-tier
 * faults as a deleted pod of the data tier's namespace, and the same verdict
 * and report as the local gameday, with `mode: "kubernetes"`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { repoRoot } from '../paths.js';
import { kubeBackend } from '../chaos/kube.js';
import type { ChaosBackend } from '../chaos/engine.js';
import { exercise, type GamedayOptions } from './run.js';
import type { GamedayReport } from './report.js';

export interface KubeGamedayOptions extends GamedayOptions {
  /** The Ingress controller's address, e.g. http://10.88.0.1:30080. */
  baseUrl: string;
  /** Inventory's Service address as this machine reaches it (inventory is not behind the Ingress). */
  inventoryUrl?: string;
  /** Namespace of the services (k8s/dev: shop-dev). */
  namespace: string;
  /** Label selector of the pods chaos may act on. */
  selector: string;
  adminToken: string;
  /** The databases the services use, as this machine reaches them. */
  mongoUri: string;
  redisUrl: string;
  /** Namespace of the data tier whose pods a data-tier fault deletes (label app=<component>); none: no faults. */
  dataNamespace?: string;
}

/** A data-tier fault in a cluster: the component's pods deleted with grace 0; its controller brings them back. */
function withDataFaults(backend: ChaosBackend, dataNamespace: string | undefined): ChaosBackend {
  if (!dataNamespace) return backend;
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    ...backend,
    async fault(component) {
      const pods = await core.listNamespacedPod({ namespace: dataNamespace, labelSelector: `app=${component}` });
      if (pods.items.length === 0) throw new Error(`no pod labelled app=${component} in ${dataNamespace}`);
      for (const pod of pods.items) await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: dataNamespace, gracePeriodSeconds: 0 });
      // Back when a pod of it is Ready again (bounded).
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const now = await core.listNamespacedPod({ namespace: dataNamespace, labelSelector: `app=${component}` });
        if (now.items.some((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) return;
      }
      throw new Error(`${component} in ${dataNamespace} not Ready within 120 s after its pods were deleted`);
    },
  };
}

export async function runKubeGameday(options: KubeGamedayOptions): Promise<{ report: GamedayReport; dir: string }> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(options.outRoot ?? path.join(repoRoot, 'reports', 'gameday'), stamp);
  fs.mkdirSync(dir, { recursive: true });
  options.log(`kubernetes gameday: shoppers through ${options.baseUrl}, chaos on pods ${options.selector} in ${options.namespace}${options.dataNamespace ? `, data-tier faults in ${options.dataNamespace}` : ''}`);
  const report = await exercise({
    ...options,
    // Without a data namespace there is nothing to fault.
    ...(options.dataNamespace ? {} : { redisDownMs: 0, ferretdbDownMs: 0 }),
    mode: 'kubernetes',
    backend: withDataFaults(kubeBackend(options.namespace, options.selector), options.dataNamespace),
    actions: ['delete', 'kill', 'evict'],
    dir,
  });
  return { report, dir };
}
