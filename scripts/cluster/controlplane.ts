// Stage 1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler on loopback.
import { request } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminKubeconfig, kubectlBin, net, paths, scriptDir } from './config.js';
import { run, runLogged, say, startDaemon, waitFor } from './proc.js';

const pki = (f: string): string => join(paths.pki, f);
const bin = (b: string): string => join(paths.bin, b);
const kubeconfig = (name: string): string => join(paths.kubeconfigs, `${name}.kubeconfig`);

/** Build (or reuse) the binaries: see build-k8s.sh for how. */
export function buildBinaries(): void {
  say('building kubernetes + etcd from the Go module proxy (cached after the first time)...');
  runLogged('build-k8s', 'bash', [join(scriptDir, 'build-k8s.sh'), paths.bin]);
}

/**
 * The one address kube-apiserver listens on. The API server takes a single bind address,
 * and `0.0.0.0` would open 6443 on every interface. Stage 1 (no pods) uses loopback; from
 * stage 2 pods must reach it (the `kubernetes` Service points at the node IP), so it
 * listens on the node IP only: an address of the host-only bridge cni0, which the host's
 * own clients reach as well, and which the guard rules keep off the real interface.
 */
export function apiserverAddress(exposeToPods: boolean): string {
  return exposeToPods ? net.nodeIp : '127.0.0.1';
}

/** Certificates (pki.sh) and one kubeconfig per client identity, pointing at the API server's address. */
export function generateCredentials(exposeToPods: boolean): void {
  const server = `https://${apiserverAddress(exposeToPods)}:${net.apiserverPort}`;
  run('bash', [join(scriptDir, 'pki.sh'), paths.pki, net.nodeName, net.nodeIp]);
  mkdirSync(paths.kubeconfigs, { recursive: true });
  const clients: Record<string, string> = {
    admin: 'admin',
    'controller-manager': 'controller-manager',
    scheduler: 'scheduler',
    kubelet: 'kubelet-client',
    'kube-proxy': 'kube-proxy',
  };
  for (const [name, cert] of Object.entries(clients)) {
    writeFileSync(
      kubeconfig(name),
      `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority: ${pki('ca.crt')}
users:
- name: ${name}
  user:
    client-certificate: ${pki(`${cert}.crt`)}
    client-key: ${pki(`${cert}.key`)}
contexts:
- name: local
  context: {cluster: local, user: ${name}}
current-context: local
`,
      { mode: 0o600 },
    );
  }
}

/** GET an https health endpoint on loopback (serving certs are self-signed: no verify, loopback only). */
export function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export function kubectl(args: string[], input?: string): string {
  return run(kubectlBin, ['--kubeconfig', adminKubeconfig, ...args], input === undefined ? {} : { input });
}

/**
 * Start the control plane. `exposeToPods` makes the API server also listen on the
 * node IP (the cni0 bridge) so pods can reach it; without pods it stays on 127.0.0.1.
 */
export async function startControlPlane(exposeToPods: boolean): Promise<void> {
  mkdirSync(join(paths.state, 'etcd'), { recursive: true });

  startDaemon('etcd', bin('etcd'), [
    '--name=local',
    `--data-dir=${join(paths.state, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${net.etcdClientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${net.etcdClientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${net.etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${net.etcdPeerPort}`,
    `--initial-cluster=local=http://127.0.0.1:${net.etcdPeerPort}`,
    '--listen-metrics-urls=http://127.0.0.1:2381',
  ]);
  await waitFor('etcd', 'health ok', 60, async () => {
    try {
      const res = await fetch('http://127.0.0.1:2381/health', { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  });

  startDaemon('kube-apiserver', bin('kube-apiserver'), [
    `--etcd-servers=http://127.0.0.1:${net.etcdClientPort}`,
    `--bind-address=${apiserverAddress(exposeToPods)}`,
    `--advertise-address=${net.nodeIp}`,
    `--secure-port=${net.apiserverPort}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki('ca.crt')}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-issuer=https://kubernetes.default.svc.${net.clusterDomain}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    `--service-cluster-ip-range=${net.serviceCidr}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    // aggregation layer (metrics-server)
    `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
    `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
    '--enable-aggregator-routing=true',
    '--profiling=false',
  ]);
  await waitFor('kube-apiserver', '`kubectl get --raw /readyz` ok', 120, () => {
    try {
      return kubectl(['get', '--raw', '/readyz']).trim() === 'ok';
    } catch {
      return false;
    }
  });

  const common = (name: string): string[] => [
    `--kubeconfig=${kubeconfig(name)}`,
    `--authentication-kubeconfig=${kubeconfig(name)}`,
    `--authorization-kubeconfig=${kubeconfig(name)}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
    '--profiling=false',
  ];
  startDaemon('kube-controller-manager', bin('kube-controller-manager'), [
    ...common('controller-manager'),
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    `--root-ca-file=${pki('ca.crt')}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${net.serviceCidr}`,
    '--controllers=*,bootstrapsigner,tokencleaner',
  ]);
  startDaemon('kube-scheduler', bin('kube-scheduler'), common('scheduler'));
  await waitFor('kube-controller-manager', 'healthz ok', 60, () => healthy('https://127.0.0.1:10257/healthz'));
  await waitFor('kube-scheduler', 'healthz ok', 60, () => healthy('https://127.0.0.1:10259/healthz'));
}

export const controlPlaneComponents = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
