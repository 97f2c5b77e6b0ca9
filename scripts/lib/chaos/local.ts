/**
 * Local-mode chaos backend: `npm start`'s (or the gameday's) replicas dressed as
 * pods. delete = SIGTERM (graceful drain), kill / exec-kill = SIGKILL; evict is
 * a graceful delete too (no PodDisruptionBudgets locally). Reaches the platform
 * in process, or through `npm start`'s loopback control port (control.json).
 */
import fs from 'node:fs';
import type { ReplicaView } from '../platform.js';
import type { ChaosBackend, PodAction } from './engine.js';
import type { Target } from './plan.js';

/** What local chaos needs from a platform. */
export interface LocalControl {
  replicas(): Promise<ReplicaView[]> | ReplicaView[];
  signal(service: string, index: number, signal: NodeJS.Signals): Promise<boolean> | boolean;
  fault(component: string, downMs: number): Promise<void>;
}

export function replicaTargets(replicas: ReplicaView[]): Target[] {
  return replicas.map((r) => ({
    name: `${r.service}-${r.index}`,
    namespace: 'local',
    workload: r.service,
    uid: `${r.service}-${r.index}-${r.pid ?? 'none'}-${r.startedAt}`,
    labels: { app: r.service, 'app.kubernetes.io/name': r.service },
    ready: r.ready,
    terminating: r.pid === undefined,
  }));
}

export function localBackend(control: LocalControl): ChaosBackend {
  return {
    mode: 'local',
    list: async () => replicaTargets(await control.replicas()),
    async act(target: Target, action: PodAction) {
      const [service, index] = [target.workload, Number(target.name.slice(target.workload.length + 1))];
      const signal: NodeJS.Signals = action === 'kill' || action === 'exec-kill' ? 'SIGKILL' : 'SIGTERM';
      const sent = await control.signal(service, index, signal);
      if (!sent) throw new Error(`${target.name} is not running`);
      return `${signal} sent to ${target.name}`;
    },
    fault: (component, downMs) => control.fault(component, downMs),
  };
}

/** The control channel of a running `npm start`, from its control.json. */
export function httpControl(controlFile: string): LocalControl {
  if (!fs.existsSync(controlFile)) throw new Error(`no ${controlFile}: is \`npm start\` running (with the same STACK_PORT_OFFSET)?`);
  const { url } = JSON.parse(fs.readFileSync(controlFile, 'utf8')) as { url: string };
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`control url ${url} in ${controlFile} is not loopback`);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(150_000) });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`control ${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    replicas: async () => (await call('GET', '/replicas')).replicas as ReplicaView[],
    signal: async (service, index, signal) => (await call('POST', '/signal', { service, index, signal })).sent === true,
    fault: async (component, downMs) => {
      await call('POST', '/fault', { component, downMs });
    },
  };
}
