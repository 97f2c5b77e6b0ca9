/**
 * The Kubernetes backend's calls, with fake API clients (no cluster): what
 * exec-kill runs in the container, and what each action asks the API for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXEC_KILL_COMMAND, kubeBackend, type KubeClients } from '../../scripts/lib/chaos/kube.js';
import type { Target } from '../../scripts/lib/chaos/plan.js';

type ExecStatus = { status: string; message?: string };

/** Fake core and exec clients recording every call; exec answers `status`. */
function fakeClients(status: ExecStatus = { status: 'Success' }) {
  const calls: Array<{ api: string; args: unknown[] }> = [];
  const core = {
    async readNamespacedPod(args: unknown) {
      calls.push({ api: 'readNamespacedPod', args: [args] });
      return { spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] } };
    },
    async deleteNamespacedPod(args: unknown) {
      calls.push({ api: 'deleteNamespacedPod', args: [args] });
      return {};
    },
    async createNamespacedPodEviction(args: unknown) {
      calls.push({ api: 'createNamespacedPodEviction', args: [args] });
      return {};
    },
    async listNamespacedPod() {
      return { items: [] };
    },
  };
  const exec = {
    async exec(...args: unknown[]) {
      calls.push({ api: 'exec', args: args.slice(0, 8) });
      const done = args[8] as (s: ExecStatus) => void;
      setImmediate(() => done(status));
      return {};
    },
  };
  return { clients: { core, exec } as unknown as KubeClients, calls };
}

const target: Target = { name: 'cart-7d9f-abc', namespace: 'shop', workload: 'cart', uid: 'u1', labels: { app: 'cart' }, ready: true, terminating: false };

test('exec-kill runs `kill -TERM 1` through the shell in the first container (the slim image may have no /bin/kill)', async () => {
  const { clients, calls } = fakeClients();
  const detail = await kubeBackend('shop', 'app=cart', clients).act(target, 'exec-kill');
  assert.deepEqual([...EXEC_KILL_COMMAND], ['sh', '-c', 'kill -TERM 1']);
  const exec = calls.find((c) => c.api === 'exec');
  assert.ok(exec, JSON.stringify(calls));
  const [namespace, pod, container, command, stdout, stderr, stdin, tty] = exec.args;
  assert.deepEqual([namespace, pod, container], ['shop', 'cart-7d9f-abc', 'app']);
  assert.deepEqual(command, ['sh', '-c', 'kill -TERM 1']);
  assert.deepEqual([stdout, stderr, stdin, tty], [null, null, null, false]);
  assert.equal(detail, 'sh -c kill -TERM 1 in container app');
});

test('an exec that does not succeed fails the action with the API\'s message', async () => {
  const { clients } = fakeClients({ status: 'Failure', message: 'command terminated with non-zero exit code' });
  await assert.rejects(kubeBackend('shop', undefined, clients).act(target, 'exec-kill'), /non-zero exit code/);
});

test('delete is graceful, kill has grace period 0, evict goes through the Eviction API', async () => {
  const { clients, calls } = fakeClients();
  const backend = kubeBackend('shop', undefined, clients);
  await backend.act(target, 'delete');
  await backend.act(target, 'kill');
  await backend.act(target, 'evict');
  assert.deepEqual(calls.map((c) => [c.api, (c.args[0] as { gracePeriodSeconds?: number }).gracePeriodSeconds]), [
    ['deleteNamespacedPod', undefined], ['deleteNamespacedPod', 0], ['createNamespacedPodEviction', undefined],
  ]);
});
