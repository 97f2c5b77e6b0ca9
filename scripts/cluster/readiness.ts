// Readiness as a state of the pods, not as an event seen during a wait.
//
// A warm `up` restarts the kubelet over pods that already exist in etcd. Two things
// must both hold there:
//  - the API still holds the pods' status from the previous run (Ready=True) until
//    the new kubelet reports; that status is stale and must not count;
//  - the kubelet may bring a pod back Ready *before* a given wait begins (Traefik is
//    Ready while the wait for metrics-server still runs); that pod must count.
// Waiting for a Ready transition after the wait started fails the second case (issue
// 16). Instead, a pod counts when, in this snapshot, it is Ready and every container
// runs in the current incarnation of the node: started after the kubelet started
// (`down` kills every container, so a running container older than the kubelet is
// status left over from the last run). No clock of the wait is involved.

/** The parts of a v1 Pod (`kubectl get pods -o json`) the readiness decision reads. */
export interface PodSnapshot {
  metadata: { name: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready?: boolean; state?: { running?: { startedAt?: string } } }[];
  };
}

/** startedAt has second precision; the kubelet's start is in ms. */
const PRECISION_MS = 1000;

/**
 * Whether `pod` is ready now on the node whose kubelet started at `nodeStartedAt` (ms):
 * not terminating, phase Running, condition Ready=True, and every container ready and
 * running since the kubelet started.
 */
export function isPodReady(pod: PodSnapshot, nodeStartedAt: number): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const s = pod.status;
  if (s?.phase !== 'Running') return false;
  if (s.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return false;
  const containers = s.containerStatuses ?? [];
  if (containers.length === 0) return false;
  return containers.every((c) => {
    const started = Date.parse(c.state?.running?.startedAt ?? '');
    return c.ready === true && Number.isFinite(started) && started >= nodeStartedAt - PRECISION_MS;
  });
}

/** Names of the pods in the snapshot that are ready now (see {@link isPodReady}). */
export function readyPodNames(pods: readonly PodSnapshot[], nodeStartedAt: number): string[] {
  return pods.filter((p) => isPodReady(p, nodeStartedAt)).map((p) => p.metadata.name);
}

/** At least `min` pods of the snapshot are ready now. */
export function enoughReady(pods: readonly PodSnapshot[], nodeStartedAt: number, min = 1): boolean {
  return readyPodNames(pods, nodeStartedAt).length >= min;
}
