/**
 * Kubernetes-mode chaos backend on the current kubeconfig (@kubernetes/client-node):
 * delete (graceful), kill (grace period 0), evict (Eviction API: a
 * PodDisruptionBudget refusal, HTTP 429, is reported as refused), exec-kill
 * (SIGTERM to PID 1 in the pod's first container: the container restarts, the pod stays).
 */
import * as k8s from '@kubernetes/client-node';
import { RefusedError, type ChaosBackend, type PodAction } from './engine.js';
import type { Target } from './plan.js';

/** A pod as a chaos target; its workload is the app name label, else its owner (ReplicaSet). */
export function podTarget(pod: k8s.V1Pod): Target {
  const labels = pod.metadata?.labels ?? {};
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    workload: labels['app.kubernetes.io/name'] ?? labels.app ?? pod.metadata?.ownerReferences?.[0]?.name ?? pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? pod.metadata?.name ?? '',
    labels,
    ready,
    terminating: Boolean(pod.metadata?.deletionTimestamp) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed',
  };
}

/**
 * What exec-kill runs in the container. Through the shell: the image (node:24-bookworm-slim)
 * has no procps, so there may be no /bin/kill, but every `sh` has `kill` built in. SIGTERM,
 * because the kernel drops a SIGKILL sent to a namespace's PID 1 from inside it; the service
 * (PID 1) exits on SIGTERM after draining.
 */
export const EXEC_KILL_COMMAND: readonly string[] = ['sh', '-c', 'kill -TERM 1'];

/** The parts of the Kubernetes client the backend calls (tests pass fakes). */
export interface KubeClients {
  core: Pick<k8s.CoreV1Api, 'listNamespacedPod' | 'deleteNamespacedPod' | 'createNamespacedPodEviction' | 'readNamespacedPod'>;
  exec: Pick<k8s.Exec, 'exec'>;
}

function defaultClients(): KubeClients {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return { core: kc.makeApiClient(k8s.CoreV1Api), exec: new k8s.Exec(kc) };
}

export function kubeBackend(namespace: string, labelSelector: string | undefined, clients: KubeClients = defaultClients()): ChaosBackend {
  const { core, exec } = clients;
  return {
    mode: 'kubernetes',
    async list() {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: labelSelector || undefined });
      return pods.items.map(podTarget);
    },
    async act(target: Target, action: PodAction) {
      const { name } = target;
      if (action === 'delete' || action === 'kill') {
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: action === 'kill' ? 0 : undefined });
        return action === 'kill' ? 'deleted with grace period 0' : 'deleted (graceful)';
      }
      if (action === 'evict') {
        try {
          await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
        } catch (error) {
          if ((error as { code?: number }).code === 429) throw new RefusedError(`eviction refused by a PodDisruptionBudget: ${String((error as { body?: unknown }).body ?? '').slice(0, 200)}`);
          throw error;
        }
        return 'evicted';
      }
      const pod = await core.readNamespacedPod({ name, namespace });
      const container = pod.spec?.containers[0]?.name ?? '';
      await new Promise<void>((resolve, reject) => {
        exec.exec(namespace, name, container, [...EXEC_KILL_COMMAND], null, null, null, false, (status) => (status.status === 'Success' ? resolve() : reject(new Error(status.message ?? 'exec failed')))).catch(reject);
      });
      return `${EXEC_KILL_COMMAND.join(' ')} in container ${container}`;
    },
  };
}
