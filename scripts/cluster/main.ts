// npm run cluster -- up [--stage 1|2|3] | down | status | logs COMPONENT | kubeconfig | verify | image [REF] | dev | gameday [gameday options]
//
// A real single-node Kubernetes on this machine, built from sources it can reach
// (Go module proxy, Debian packages). See docs/cluster.md for what each stage
// gives, versions, timings and limits. Everything lives in the git-ignored .cluster/.
//
//   up          build (cached) and start: stage 1 = etcd + control plane on loopback;
//               stage 2 (default) adds containerd, kubelet, kube-proxy and CoreDNS;
//               stage 3 adds metrics-server and the Traefik ingress controller.
//   down        stop everything this tool started; remove containers, mounts, netns, rules.
//   status      what runs, readiness, node and pods, memory used.
//   logs NAME   a component's log (.cluster/logs/NAME.log); `logs` alone lists them.
//   kubeconfig  the admin kubeconfig's path (last line).
//   verify      checks that prove the stage works (server-side dry-run, DNS, Service, ...).
//   image [REF] build the project's image from its Dockerfile (buildah, local base) and import it.
//   dev         run k8s/dev for real: images, local data tier (FerretDB, Redis), Secret, apply, wait.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminKubeconfig, net, paths, repoRoot, scriptDir, versions } from './config.js';
import { buildBinaries, controlPlaneComponents, generateCredentials, kubectl, startControlPlane } from './controlplane.js';
import { buildStage3Images, startIngressController, startMetricsServer } from './addons.js';
import { deployDev } from './dev.js';
import { buildNodeImages, ensurePackages, importImages, nodeComponents, setupNetwork, startNode, stopNode } from './node.js';
import { ClusterError, logFile, pidOf, run, runLogged, say, stopDaemon, tail } from './proc.js';
import { verify } from './verify.js';

const stageFile = join(paths.run, 'stage');

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new ClusterError('the cluster needs root (mounts, cgroups, network namespaces)');
}

/** Refuse to start over a port that some process other than ours already holds. */
function checkPortsFree(): void {
  if (pidOf('kube-apiserver') || pidOf('etcd')) return;
  const listening = run('ss', ['-Hltn']);
  for (const port of [net.apiserverPort, net.etcdClientPort, net.etcdPeerPort, 10257, 10259]) {
    if (new RegExp(`:${port}\\s`).test(listening)) {
      throw new ClusterError(`port ${port} is already in use by another process; cannot start the cluster`);
    }
  }
}

async function up(stage: number): Promise<void> {
  requireRoot();
  const t0 = Date.now();
  const v = versions();
  say(`up: stage ${stage}, kubernetes ${v.K8S_VERSION}, etcd ${v.ETCD_VERSION}`);
  checkPortsFree();
  mkdirSync(paths.run, { recursive: true });
  if (stage >= 2) ensurePackages();
  buildBinaries();
  if (stage >= 2) buildNodeImages();
  if (stage >= 3) buildStage3Images();
  const tBuilt = Date.now();
  generateCredentials(stage >= 2);
  writeFileSync(stageFile, String(stage));
  if (stage >= 2) setupNetwork(); // before the API server, which advertises the bridge address
  await startControlPlane(stage >= 2);
  if (stage >= 2) await startNode();
  if (stage >= 3) await startMetricsServer();
  if (stage >= 3) await startIngressController();
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  say(`up: stage ${stage} ready in ${s(Date.now() - t0)} (build/cache check ${s(tBuilt - t0)}, start ${s(Date.now() - tBuilt)})`);
  say(`kubectl: ${join(paths.bin, 'kubectl')} --kubeconfig ${adminKubeconfig}`);
}

async function down(): Promise<void> {
  requireRoot();
  await stopNode();
  for (const c of controlPlaneComponents) await stopDaemon(c);
  if (existsSync(stageFile)) writeFileSync(stageFile, '0');
  const left = [...nodeComponents, ...controlPlaneComponents].filter((c) => pidOf(c));
  if (left.length) throw new ClusterError(`still running after down: ${left.join(', ')}`);
  say('down: nothing of the cluster is running');
}

/** Resident memory (KiB) of a pid and its descendants. */
function rssTreeKiB(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      rss.set(Number(d), m ? Number(m[1]) : 0);
    } catch {
      /* process went away */
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

function status(): void {
  const stage = existsSync(stageFile) ? readFileSync(stageFile, 'utf8').trim() : '0';
  say(`stage recorded by the last up: ${stage}`);
  let totalKiB = 0;
  for (const c of [...controlPlaneComponents].reverse().concat(nodeComponents)) {
    const pid = pidOf(c);
    const kib = pid ? rssTreeKiB(pid) : 0;
    totalKiB += kib;
    console.log(`  ${c.padEnd(24)} ${pid ? `running pid ${pid}`.padEnd(20) : 'stopped'.padEnd(20)} ${pid ? `${(kib / 1024).toFixed(0)} MiB` : ''}`);
  }
  // Containers run under containerd-shim processes (re-parented away from containerd):
  // find the shims of our containerd by their -address argument; their trees hold the pods.
  const sock = join(paths.run, 'containerd', 'containerd.sock');
  const shims = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      return cmd.includes('containerd-shim') && cmd.includes(sock);
    } catch {
      return false;
    }
  });
  const podKiB = shims.reduce((sum, d) => sum + rssTreeKiB(Number(d)), 0);
  totalKiB += podKiB;
  console.log(`  ${`pods (${shims.length} shims + containers)`.padEnd(24)} ${''.padEnd(20)} ${(podKiB / 1024).toFixed(0)} MiB`);
  console.log(`  total memory: ${(totalKiB / 1024).toFixed(0)} MiB`);
  if (pidOf('kube-apiserver')) {
    try {
      console.log(`  readyz: ${kubectl(['get', '--raw', '/readyz']).trim()}`);
      console.log(kubectl(['get', 'nodes', '-o', 'wide']).trimEnd());
      console.log(kubectl(['get', 'pods', '-A', '-o', 'wide']).trimEnd());
    } catch (e) {
      console.log(`  api server not answering: ${(e as Error).message.split('\n')[0]}`);
    }
  }
}

function logs(component: string | undefined): void {
  if (!component) {
    const names = existsSync(paths.logs) ? readdirSync(paths.logs).map((f) => f.replace(/\.log$/, '')) : [];
    console.log(`components with logs: ${names.join(' ') || '(none yet)'}`);
    return;
  }
  if (!existsSync(logFile(component))) throw new ClusterError(`no log for ${component} at ${logFile(component)}`);
  console.log(tail(component, 300));
  console.log(`(last 300 lines of ${logFile(component)})`);
}

/**
 * Build the project's image from its Dockerfile (build-app-image.sh) and, when the
 * node runs, import it into containerd. REF defaults to the image k8s/dev's
 * Deployments use, so the manifests run it unchanged (imagePullPolicy IfNotPresent).
 */
function appImage(ref: string | undefined): void {
  requireRoot();
  if (!ref) {
    const dev = join(repoRoot, 'k8s', 'dev');
    const counts = new Map<string, number>();
    for (const f of existsSync(dev) ? readdirSync(dev) : []) {
      if (!/^.*\.ya?ml$/.test(f) || !/kind: Deployment/.test(readFileSync(join(dev, f), 'utf8'))) continue;
      for (const m of readFileSync(join(dev, f), 'utf8').matchAll(/image:\s*(\S+)/g)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    }
    ref = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (!ref) throw new ClusterError('no image reference given and none found in k8s/dev Deployments');
  }
  say(`building the project's image as ${ref} (log: ${logFile('build-app-image')})`);
  runLogged('build-app-image', 'bash', [join(scriptDir, 'build-app-image.sh'), ref]);
  if (pidOf('containerd')) importImages([['app.tar', ref]], true);
  say(`image ${ref} ready`);
}

/**
 * `gameday [gameday options]`: k8s/dev on this cluster (deployed first if it is
 * not), shoppers through the Ingress controller, Kubernetes-mode chaos, the
 * verdict from the local data tier (reached at its ClusterIPs from the node).
 */
async function gameday(args: string[]): Promise<void> {
  if (!pidOf('kubelet')) throw new ClusterError('no node running: `npm run cluster -- up --stage 3` first');
  const namespace = 'shop-dev';
  let deployed = '';
  try {
    deployed = kubectl(['-n', namespace, 'get', 'deploy', '-o', 'name']).trim();
  } catch {
    // no namespace yet
  }
  if (!deployed) {
    say('k8s/dev is not deployed yet: deploying it first (npm run cluster -- dev)');
    await deployDev();
  }
  const clusterIp = (svc: string, ns = 'local-data') => kubectl(['-n', ns, 'get', 'svc', svc, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  const gamedayArgs = [
    '--kubernetes', '--base-url', 'http://10.88.0.1:30080', '--inventory-url', `http://${clusterIp('inventory', namespace)}`, '--namespace', namespace, '--data-namespace', 'local-data',
    '--mongo-uri', `mongodb://${clusterIp('ferretdb')}:27017/shop`, '--redis-url', `redis://${clusterIp('redis')}:6379`,
    '--admin-token-file', join(paths.state, 'admin-token'), ...args,
  ];
  say(`gameday: ${gamedayArgs.join(' ')}`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'gameday.ts'), ...gamedayArgs], { stdio: 'inherit', env: { ...process.env, KUBECONFIG: adminKubeconfig } });
  if (child.status !== 0) throw new ClusterError(`gameday ${child.status === 1 ? 'verdict: FAIL' : 'could not run'} (exit ${child.status})`);
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const stageArg = rest.find((a) => a.startsWith('--stage'));
  const stage = Number(stageArg?.split('=')[1] ?? rest[rest.indexOf('--stage') + 1] ?? process.env.CLUSTER_STAGE ?? 2);
  switch (cmd) {
    case 'up':
      if (![1, 2, 3].includes(stage)) throw new ClusterError(`unknown stage ${stage} (1, 2 or 3)`);
      return up(stage);
    case 'down':
      return down();
    case 'status':
      return status();
    case 'logs':
      return logs(rest[0]);
    case 'kubeconfig':
      if (!existsSync(adminKubeconfig)) throw new ClusterError('no kubeconfig yet: run `npm run cluster -- up` first');
      console.log(adminKubeconfig);
      return;
    case 'verify':
      return verify();
    case 'dev':
      return deployDev();
    case 'image':
      return appImage(rest[0]);
    case 'gameday':
      return gameday(rest);
    default:
      console.log('usage: npm run cluster -- up [--stage 1|2|3] | down | status | logs [COMPONENT] | kubeconfig | verify | image [REF] | dev | gameday');
      process.exitCode = cmd ? 2 : 0;
  }
}

main().catch((e: unknown) => {
  if (e instanceof ClusterError) {
    process.stderr.write(`[cluster] ERROR: ${e.message}\n`);
  } else {
    process.stderr.write(`[cluster] unexpected error: ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exitCode = 1;
});
