// Where things live and the fixed network plan of the local cluster.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const scriptDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(scriptDir, '..', '..');

/** Everything the cluster builds, generates or stores goes under the git-ignored .cluster/. */
const root = join(repoRoot, '.cluster');
export const paths = {
  root,
  bin: join(root, 'bin'), // kube-*, kubectl, etcd, coredns, ... (built from the Go module proxy)
  build: join(root, 'build'), // wrapper Go modules and image build contexts
  pki: join(root, 'pki'), // certificates (openssl)
  kubeconfigs: join(root, 'kubeconfig'), // one kubeconfig per client
  etc: join(root, 'etc'), // generated config files (kubelet, containerd, CNI, kube-proxy, ...)
  state: join(root, 'state'), // etcd data, containerd root, kubelet root
  run: join(root, 'run'), // pid files and unix sockets
  logs: join(root, 'logs'), // one log file per component
  images: join(root, 'images'), // OCI archives of locally built images
};

export const adminKubeconfig = join(paths.kubeconfigs, 'admin.kubeconfig');
export const kubectlBin = join(paths.bin, 'kubectl');

/** Pinned versions, read from versions.env so the bash build scripts and this file agree. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(scriptDir, 'versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * Network plan. The API server listens on one address: loopback in stage 1, the node IP
 * (10.88.0.1, on the host-only bridge) from stage 2 (controlplane.ts apiserverAddress).
 * Pods live in network namespaces that containerd creates, on the bridge `cni0`
 * (10.88.0.0/16, host side 10.88.0.1 = the node IP), Service IPs are virtual
 * (10.96.0.0/16, rewritten by kube-proxy to pod IPs). Nothing is routed off the
 * machine: `guard` rules drop any forwarded or cluster-range packet that would
 * leave through the real interface.
 */
export const net = {
  nodeName: 'local-node',
  nodeIp: '10.88.0.1',
  bridge: 'cni0',
  podCidr: '10.88.0.0/16',
  serviceCidr: '10.96.0.0/16',
  dnsIp: '10.96.0.10',
  clusterDomain: 'cluster.local',
  apiserverPort: 6443,
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
};
