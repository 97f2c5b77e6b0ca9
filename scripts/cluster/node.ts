// Stage 2: the node. containerd + runc + CNI (Debian packages), kubelet and
// kube-proxy (built with the control plane), a locally built pause image, CoreDNS.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { net, paths, scriptDir, versions } from './config.js';
import { kubectl } from './controlplane.js';
import { pidOf, run, runLogged, say, sleep, startDaemon, startedAtOf, stopDaemon, tail, waitFor } from './proc.js';
import { enoughReady, type PodSnapshot } from './readiness.js';

const bin = (b: string): string => join(paths.bin, b);
const pki = (f: string): string => join(paths.pki, f);
const etc = (f: string): string => join(paths.etc, f);
const containerdDir = join(paths.run, 'containerd');
export const containerdSock = join(containerdDir, 'containerd.sock');
const runcRoot = join(paths.run, 'runc');
const cniConfDir = etc('cni');
export const pauseImage = 'localhost/pause:3.10.1';
const GUARD = 'LOCAL-CLUSTER-GUARD';

/** Debian packages the node needs. Installed once with apt-get (root). */
const debianPackages = ['containerd', 'runc', 'containernetworking-plugins', 'iptables', 'conntrack', 'buildah', 'busybox-static', 'debootstrap'];

export function ensurePackages(): void {
  const missing = debianPackages.filter((p) => {
    try {
      return !/install ok installed/.test(run('dpkg-query', ['-W', '-f=${Status}', p]));
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  say(`installing Debian packages: ${missing.join(' ')}`);
  runLogged('apt', 'apt-get', ['update']);
  runLogged('apt', 'apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    DEBIAN_FRONTEND: 'noninteractive',
  });
}

export function buildNodeImages(): void {
  say('building pause and CoreDNS images (buildah from scratch; cached after the first time)...');
  runLogged('build-addons', 'bash', [join(scriptDir, 'build-addons.sh'), 'pause', 'coredns', 'busybox']);
}

const ctr = (args: string[]): string => run('ctr', ['--address', containerdSock, '--namespace', 'k8s.io', ...args]);

/** The interface the default route uses: the one cluster traffic must never leave by. */
function uplink(): string | undefined {
  const m = /dev (\S+)/.exec(run('ip', ['route', 'show', 'default']));
  return m?.[1];
}

function ipt(args: string[]): void {
  run('iptables', ['-w', '5', ...args]);
}
function iptOk(args: string[]): boolean {
  try {
    run('iptables', ['-w', '5', ...args]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Host networking for pods: the bridge (made up front so the API server can
 * advertise its address), forwarding, and guard rules so that nothing from the
 * cluster leaves through the real interface and nothing from outside reaches it.
 */
export function setupNetwork(): void {
  if (!existsSync(`/sys/class/net/${net.bridge}`)) {
    run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
  }
  if (!run('ip', ['-4', 'addr', 'show', 'dev', net.bridge]).includes(`${net.nodeIp}/16`)) {
    run('ip', ['addr', 'add', `${net.nodeIp}/16`, 'dev', net.bridge]);
  }
  run('ip', ['link', 'set', net.bridge, 'up']);
  // Bridged pod traffic must pass iptables so kube-proxy's Service rules apply.
  if (!existsSync('/proc/sys/net/bridge')) run('modprobe', ['br_netfilter']);
  writeFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
  // Routing between pods and Services needs forwarding; `down` restores the old value.
  const saved = join(paths.run, 'ip_forward.orig');
  if (!existsSync(saved)) writeFileSync(saved, readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'));
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');

  for (const rule of guardRules()) {
    if (!iptOk(['-t', rule.table, '-C', rule.chain, ...rule.args])) ipt(['-t', rule.table, '-I', rule.chain, '1', ...rule.args]);
  }
}

/**
 * Guard rules, inserted first in their chains while the cluster is up:
 *  - no forwarded packet (from or to a pod) crosses the real interface;
 *  - nothing addressed to a pod or Service IP leaves through it (checked in
 *    mangle POSTROUTING, after kube-proxy's DNAT has picked the real route);
 *  - the API server, kubelet and NodePorts are not reachable from it.
 */
function guardRules(): { table: string; chain: string; args: string[] }[] {
  const up = uplink();
  if (!up) return [];
  const tag = ['-m', 'comment', '--comment', GUARD];
  return [
    { table: 'filter', chain: 'FORWARD', args: ['-o', up, ...tag, '-j', 'DROP'] },
    { table: 'filter', chain: 'FORWARD', args: ['-i', up, ...tag, '-j', 'DROP'] },
    { table: 'mangle', chain: 'POSTROUTING', args: ['-o', up, '-d', net.podCidr, ...tag, '-j', 'DROP'] },
    { table: 'mangle', chain: 'POSTROUTING', args: ['-o', up, '-d', net.serviceCidr, ...tag, '-j', 'DROP'] },
    { table: 'filter', chain: 'INPUT', args: ['-i', up, '-p', 'tcp', '-m', 'multiport', '--dports', '6443,10250,10256,30000:32767', ...tag, '-j', 'DROP'] },
  ];
}

export function teardownNetwork(): void {
  for (const rule of guardRules()) {
    while (iptOk(['-t', rule.table, '-C', rule.chain, ...rule.args])) ipt(['-t', rule.table, '-D', rule.chain, ...rule.args]);
  }
  if (existsSync(`/sys/class/net/${net.bridge}`)) run('ip', ['link', 'delete', net.bridge]);
  const saved = join(paths.run, 'ip_forward.orig');
  if (existsSync(saved)) {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', readFileSync(saved, 'utf8'));
    rmSync(saved);
  }
}

function writeConfigs(): void {
  mkdirSync(cniConfDir, { recursive: true });
  mkdirSync(paths.etc, { recursive: true });
  writeFileSync(
    join(cniConfDir, '10-local.conflist'),
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'local',
        plugins: [
          {
            type: 'bridge',
            bridge: net.bridge,
            isGateway: true,
            ipMasq: false, // no masquerading: pod traffic has nowhere to go but this machine
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: net.podCidr, gateway: net.nodeIp }]],
              routes: [{ dst: '0.0.0.0/0' }],
              dataDir: join(paths.state, 'cni'),
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );

  writeFileSync(
    etc('containerd.toml'),
    `# containerd for the local cluster: state under .cluster, its own socket, CRI with runc + CNI.
version = 2
root = "${join(paths.state, 'containerd')}"
state = "${containerdDir}-state"
[grpc]
  address = "${containerdSock}"
[ttrpc]
  address = "${containerdSock}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  # This machine refuses to lower oom_score_adj (EACCES); keep pods at or above containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${runcRoot}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`,
  );

  // Pods with dnsPolicy Default get this resolv.conf: no upstream resolver, on purpose.
  writeFileSync(etc('resolv.conf'), 'nameserver 127.0.0.1\noptions ndots:1\n');

  writeFileSync(
    etc('kubelet.yaml'),
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 controllers (cgroup2 only at /sys/fs/cgroup/unified);
# kubelet 1.34 still runs on v1 when told not to fail on it.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${containerdSock}
address: ${net.nodeIp}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki('ca.crt')}}
authorization: {mode: Webhook}
tlsCertFile: ${pki('kubelet-serving.crt')}
tlsPrivateKeyFile: ${pki('kubelet-serving.key')}
clusterDNS: [${net.dnsIp}]
clusterDomain: ${net.clusterDomain}
resolvConf: ${etc('resolv.conf')}
failSwapOn: false
serializeImagePulls: false
evictionHard: {memory.available: "200Mi", nodefs.available: "5%", imagefs.available: "5%"}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
`,
  );

  writeFileSync(
    etc('kube-proxy.yaml'),
    `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${net.podCidr}
hostnameOverride: ${net.nodeName}
clientConnection: {kubeconfig: ${join(paths.kubeconfigs, 'kube-proxy.kubeconfig')}}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["${net.nodeIp}/32"]
conntrack: {maxPerCore: 0}
`,
  );
}

/** Import docker-archive tarballs from .cluster/images into containerd (skips missing files and present images). */
export function importImages(list: [file: string, ref: string][], force = false): void {
  const have = ctr(['images', 'ls', '-q']);
  for (const [file, given] of list) {
    const tarball = join(paths.images, file);
    // Images whose tag is decided at build time record it beside the archive (NAME.ref).
    const refFile = tarball.replace(/\.tar$/, '.ref');
    const ref = given || (existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : '');
    if (!existsSync(tarball) || (ref && have.includes(ref) && !force)) continue;
    ctr(['images', 'import', '--no-unpack', tarball]);
    say(`imported ${ref || file} into containerd`);
  }
}

/**
 * Storage for PersistentVolumeClaims: a few hostPath PersistentVolumes under
 * .cluster/state/volumes with no storage class, which claims without a class bind to.
 */
function localVolumes(count = 8, size = '5Gi'): string {
  const docs: string[] = [];
  for (let i = 1; i <= count; i++) {
    const dir = join(paths.state, 'volumes', `pv-${i}`);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    docs.push(JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolume',
      metadata: { name: `local-pv-${i}`, labels: { 'local-cluster/volume': 'true' } },
      spec: {
        capacity: { storage: size }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '', hostPath: { path: dir, type: 'DirectoryOrCreate' },
      },
    }));
  }
  return docs.join('\n---\n');
}

/**
 * At least `min` pods matching `selector` are ready now, judged on one snapshot
 * (readiness.ts): Ready and running since this kubelet started, so stale status from
 * the last run does not count and a pod that became Ready before the wait does.
 */
export function podsReady(namespace: string, selector: string, min = 1): boolean {
  const kubeletStartedAt = startedAtOf('kubelet');
  if (kubeletStartedAt === undefined) return false;
  const list = JSON.parse(kubectl(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json'])) as { items: PodSnapshot[] };
  return enoughReady(list.items, kubeletStartedAt, min);
}

export async function startNode(): Promise<void> {
  const startedAt = Date.now();
  writeConfigs();
  mkdirSync(containerdDir, { recursive: true });

  // Image pulls must never leave this machine: every registry request goes to a
  // proxy address on loopback where nothing listens, so a pod whose image is not
  // imported fails with ErrImagePull at once instead of contacting a registry.
  const noEgress = '127.0.0.1:9';
  startDaemon('containerd', '/usr/bin/containerd', ['--config', etc('containerd.toml')], {
    HTTP_PROXY: `http://${noEgress}`,
    HTTPS_PROXY: `http://${noEgress}`,
    http_proxy: `http://${noEgress}`,
    https_proxy: `http://${noEgress}`,
    NO_PROXY: '',
    no_proxy: '',
  });
  await waitFor('containerd', 'socket answers', 60, () => {
    try {
      run('ctr', ['--address', containerdSock, 'version']);
      return true;
    } catch {
      return false;
    }
  });

  // Locally built images into containerd's k8s.io namespace.
  const v = versions();
  importImages([
    ['pause.tar', pauseImage],
    ['coredns.tar', `localhost/coredns:${v.COREDNS_VERSION}`],
    ['busybox.tar', 'localhost/busybox:smoke'],
    ['metrics-server.tar', `localhost/metrics-server:${v.METRICS_SERVER_VERSION}`],
    ['traefik.tar', `localhost/traefik:${v.TRAEFIK_VERSION}`],
    ['app.tar', ''], // the project's image, when `npm run cluster -- image` has built it (ref in app.ref)
    ['ferretdb.tar', `localhost/ferretdb:${v.FERRETDB_VERSION}`],
    ['redis.tar', ''],
    ['postgres.tar', ''],
  ]);

  // On a warm start containerd answers on its socket before its CRI service has
  // loaded the existing containers; a kubelet started then exits at once with
  // "server is not initialized yet". Start it again (bounded) until it stays up.
  for (let attempt = 1; ; attempt += 1) {
    startDaemon('kubelet', bin('kubelet'), [
      `--config=${etc('kubelet.yaml')}`,
      `--kubeconfig=${join(paths.kubeconfigs, 'kubelet.kubeconfig')}`,
      `--hostname-override=${net.nodeName}`,
      `--node-ip=${net.nodeIp}`,
      `--root-dir=${join(paths.state, 'kubelet')}`,
      `--cert-dir=${join(paths.state, 'kubelet', 'pki')}`,
    ]);
    await sleep(3_000);
    if (pidOf('kubelet') || attempt >= 10 || !tail('kubelet', 5).includes('server is not initialized yet')) break;
    say(`kubelet: containerd's CRI is not initialized yet; starting kubelet again (attempt ${attempt + 1})`);
  }
  await waitFor('kubelet', 'healthz ok', 90, async () => {
    try {
      const res = await fetch('http://127.0.0.1:10248/healthz', { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  });

  startDaemon('kube-proxy', bin('kube-proxy'), [`--config=${etc('kube-proxy.yaml')}`]);
  await waitFor('kube-proxy', 'healthz ok', 60, async () => {
    try {
      const res = await fetch('http://127.0.0.1:10256/healthz', { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false;
    }
  });

  await waitFor(
    'kubelet',
    `node ${net.nodeName} Ready`,
    120,
    () => {
      try {
        // Status left in etcd by the previous run does not count: the heartbeat must be new.
        const [status, beat] = kubectl(['get', 'node', net.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}']).split(' ');
        return status === 'True' && Date.parse(beat ?? '') >= startedAt - 1000;
      } catch {
        return false;
      }
    },
  );

  kubectl(['apply', '-f', '-'], localVolumes());

  // Cluster DNS: CoreDNS as a Deployment from the locally built image.
  const manifest = readFileSync(join(scriptDir, 'manifests', 'coredns.yaml'), 'utf8')
    .replaceAll('COREDNS_IMAGE', `localhost/coredns:${v.COREDNS_VERSION}`)
    .replaceAll('DNS_IP', net.dnsIp);
  kubectl(['apply', '-f', '-'], manifest);
  await waitFor(
    'coredns',
    'pod Ready',
    300,
    () => {
      try {
        return podsReady('kube-system', 'k8s-app=kube-dns');
      } catch {
        return false;
      }
    },
    { process: 'kubelet' },
  );
}

/**
 * Stop the node and remove every container, mount, network namespace and rule it
 * made. Containers are killed through containerd (ctr) while it still runs, so the
 * only processes touched are the ones this cluster started.
 */
export async function stopNode(): Promise<void> {
  await stopDaemon('kube-proxy');
  await stopDaemon('kubelet');
  if (pidOf('containerd')) {
    try {
      for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter(Boolean)) {
        try {
          ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
        } catch {
          /* already stopped */
        }
      }
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const running = ctr(['tasks', 'ls']).split('\n').filter((l) => /RUNNING/.test(l));
        if (running.length === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter(Boolean)) {
        try {
          ctr(['tasks', 'delete', id]);
        } catch {
          /* ignore */
        }
      }
      for (const id of ctr(['containers', 'ls', '-q']).split('\n').filter(Boolean)) {
        try {
          ctr(['containers', 'delete', id]);
        } catch {
          /* ignore */
        }
      }
    } catch (e) {
      say(`could not clean containers through containerd: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  await stopDaemon('containerd');
  // Shims whose containerd died: their pid files are in containerd's state dir.
  killLeftoverShims();
  unmountUnder(paths.root);
  removePodNetns();
  try {
    run(bin('kube-proxy'), ['--cleanup']);
  } catch {
    /* nothing to clean */
  }
  removeKubeChains();
  teardownNetwork();
}

/** kubelet and kube-proxy leave KUBE-* chains (canaries, firewall); remove them all. */
function removeKubeChains(): void {
  for (const table of ['filter', 'nat', 'mangle']) {
    const rules = run('iptables-save', ['-t', table]).split('\n');
    for (const r of rules.filter((l) => /^-A \S+ .*-j KUBE-/.test(l) && !/^-A KUBE-/.test(l))) {
      try {
        ipt(['-t', table, '-D', ...r.slice(3).match(/(?:[^\s"]+|"[^"]*")+/g)!.map((a) => a.replace(/^"|"$/g, ''))]);
      } catch {
        /* already gone */
      }
    }
    const chains = rules.filter((l) => /^:KUBE-/.test(l)).map((l) => l.slice(1).split(' ')[0]!);
    for (const c of chains) iptOk(['-t', table, '-F', c]);
    for (const c of chains) iptOk(['-t', table, '-X', c]);
  }
}

function killLeftoverShims(): void {
  const base = `${containerdDir}-state/io.containerd.runtime.v2.task/k8s.io`;
  if (!existsSync(base)) return;
  for (const id of readdirSync(base)) {
    for (const f of ['init.pid', 'shim.pid']) {
      const p = join(base, id, f);
      if (!existsSync(p)) continue;
      const pid = Number(readFileSync(p, 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
        say(`killed leftover ${f.replace('.pid', '')} process ${pid} of container ${id.slice(0, 12)}`);
      } catch {
        /* gone */
      }
    }
  }
}

/** Unmount everything mounted below .cluster (pod volumes, overlay rootfs, shm), deepest first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((m) => m.replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(`${dir}/`) || m.startsWith(`${containerdDir}-state`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      run('umount', ['-l', m]);
    } catch {
      /* already gone */
    }
  }
}

/** Network namespaces containerd made for our pods (named cni-*, recorded in CNI's IPAM). */
function removePodNetns(): void {
  let names: string[] = [];
  try {
    names = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith('cni-'));
  } catch {
    return;
  }
  for (const n of names) {
    try {
      run('ip', ['netns', 'delete', n]);
    } catch {
      /* ignore */
    }
  }
  rmSync(join(paths.state, 'cni'), { recursive: true, force: true });
}

export const nodeComponents = ['containerd', 'kubelet', 'kube-proxy'];

