// `npm run cluster -- verify`: the checks that show what the running stage can do.
// Stage 1: the API server validates manifests (server-side dry-run) and stores them.
// Stage 2: pods run, DNS and Services answer, the ReplicaSet replaces a killed pod,
//          and an eviction that would break the PDB is refused.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { paths, repoRoot, scriptDir } from './config.js';
import { kubectl } from './controlplane.js';
import { devFilesWithoutDataTier, removeDevDataTier, verifyDev } from './dev.js';
import { ClusterError, run, say, waitFor } from './proc.js';

const smoke = join(scriptDir, 'manifests', 'smoke.yaml');
const ns = 'cluster-smoke';

const failures: string[] = [];

/** Run one check; a failure is reported and counted, and the next checks still run. */
function check(name: string, fn: () => string | void): void {
  try {
    const detail = fn();
    say(`PASS ${name}${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    const msg = (e as Error).message.split('\n').filter((l) => !/\((server dry run|created|configured|unchanged)\)$|^\S+ (created|configured|unchanged)( \(server dry run\))?$/.test(l));
    say(`FAIL ${name}: ${msg.join('\n  ')}`);
    failures.push(name);
  }
}

const kinds = 'deployments,services,horizontalpodautoscalers,poddisruptionbudgets,ingresses';

export async function verify(): Promise<void> {
  const stage = Number(existsSync(join(paths.run, 'stage')) ? readFileSync(join(paths.run, 'stage'), 'utf8') : 0);
  if (stage < 1) throw new ClusterError('the cluster is not up: run `npm run cluster -- up` first');

  check('api server /readyz', () => kubectl(['get', '--raw', '/readyz']).trim());
  ensureNamespaces([smoke]);
  check('smoke workload passes server-side dry-run', () => oneLine(kubectl(['apply', '--dry-run=server', '-f', smoke])));
  check('smoke workload applied', () => {
    kubectl(['apply', '-f', smoke]);
    return oneLine(kubectl(['-n', ns, 'get', kinds, '-o', 'name']));
  });

  const dev = join(repoRoot, 'k8s', 'dev');
  if (existsSync(dev)) {
    ensureNamespaces([dev]);
    check('k8s/dev passes server-side dry-run', () => oneLine(kubectl(['apply', '--dry-run=server', '-f', dev])));
    // monitoring/ holds ServiceMonitors and PrometheusRules: only a cluster with the Prometheus
    // Operator's CRDs can validate them, and this one has none.
    const monitoring = join(dev, 'monitoring');
    if (existsSync(monitoring)) {
      const crd = kubectl(['get', 'crd', '--ignore-not-found', '-o', 'name', 'servicemonitors.monitoring.coreos.com']).trim();
      if (crd) check('k8s/dev/monitoring passes server-side dry-run', () => oneLine(kubectl(['apply', '--dry-run=server', '-f', monitoring])));
      else say('SKIP k8s/dev/monitoring dry-run: no Prometheus Operator CRDs (monitoring.coreos.com) in this cluster');
    }
    // k8s/dev's own data tier (mongo:7, redis:7 StatefulSets) is validated above but not
    // run: its images cannot be pulled here; `dev` runs the local data tier instead.
    check('k8s/dev applied (without its own data tier)', () => {
      removeDevDataTier();
      kubectl(['apply', ...devFilesWithoutDataTier().flatMap((f) => ['-f', f])]);
      return oneLine(kubectl(['get', kinds, '-A', '-l', '!k8s-app', '-o', 'name']));
    });
  } else {
    say('SKIP k8s/dev: the folder does not exist yet');
  }
  if (stage >= 2) await verifyPods(stage);
  if (stage >= 3 && existsSync(dev)) await verifyDevIfDeployed();
  if (failures.length) throw new ClusterError(`${failures.length} check(s) failed: ${failures.join('; ')}`);
  say('verify: all checks passed');
}

async function verifyPods(stage: number): Promise<void> {

  await waitFor('smoke workload', '2 pods Ready', 120, () => readyPods().length >= 2, { process: 'kubelet' });

  check('cluster DNS (CoreDNS) + Service from inside a pod', () => {
    // busybox's own resolver (nslookup); its wget cannot resolve names in a static build.
    const pod = readyPods()[0]!;
    const name = `web.${ns}.svc.cluster.local`;
    const dns = kubectl(['-n', ns, 'exec', pod, '--', '/busybox', 'nslookup', '-type=a', name]);
    const ip = /Name:\s+\S+\s+Address:\s*([\d.]+)/.exec(dns)?.[1];
    if (!ip) throw new ClusterError(`no A record for ${name}:\n${dns}`);
    // HTTP through the Service IP with busybox nc (static busybox's wget crashes on lookups).
    const out = kubectl(['-n', ns, 'exec', pod, '--', '/busybox', 'sh', '-c',
      `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /busybox timeout 5 /busybox nc ${ip} 80`]);
    if (!/^HTTP\/1\.[01] 200/.test(out)) throw new ClusterError(`unexpected answer from ${ip}:\n${out}`);
    return `${name} -> ${ip}, answered by pod "${out.trim().split('\n').pop()!.trim()}"`;
  });
  check('Service from the host (kube-proxy)', () => {
    const ip = kubectl(['-n', ns, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    return `${ip} answered "${run('curl', ['-s', '--max-time', '5', `http://${ip}/`]).trim()}"`;
  });

  const before = readyPods();
  check('eviction refused while it would break the PDB', () => {
    const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: before[0], namespace: ns } });
    try {
      kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/${before[0]}/eviction`, '-f', '-'], body);
    } catch (e) {
      const msg = (e as Error).message;
      if (/disruption budget|429|TooManyRequests/i.test(msg)) return 'refused: ' + (/Cannot evict[^"]*/.exec(msg)?.[0] ?? '429');
      throw e;
    }
    throw new ClusterError('eviction was allowed although the PDB requires 2 available pods');
  });

  kubectl(['-n', ns, 'delete', 'pod', before[0]!, '--wait=false']);
  try {
    await waitFor('smoke workload', `ReplicaSet replaced killed pod ${before[0]}`, 120, () => {
      const now = readyPods();
      return now.length >= 2 && !now.includes(before[0]!);
    }, { process: 'kubelet' });
    say('PASS killed pod replaced by its ReplicaSet');
  } catch (e) {
    say(`FAIL killed pod replaced by its ReplicaSet: ${(e as Error).message}`);
    failures.push('pod replacement');
  }

  if (stage >= 3) {
    try {
      await waitFor('metrics-server', 'HPA cluster-smoke/web reads CPU', 180, () =>
        /^\d+$/.test(kubectl(['-n', ns, 'get', 'hpa', 'web', '-o', 'jsonpath={.status.currentMetrics[0].resource.current.averageUtilization}'])),
      { process: 'kubelet' });
      check('HPA reads CPU through metrics-server', () => oneLine(kubectl(['-n', ns, 'get', 'hpa', 'web', '--no-headers'])));
    } catch (e) {
      say(`FAIL HPA reads CPU: ${(e as Error).message}`);
      failures.push('HPA CPU');
    }
  }
}

/**
 * When `dev` has deployed k8s/dev (its Secret exists), the same checks as `dev`: a pod
 * of each service killed under load through the Ingress, the services' own PDBs.
 */
async function verifyDevIfDeployed(): Promise<void> {
  const names = kubectl(['get', 'deploy', '-A', '-l', 'app.kubernetes.io/part-of=shop', '-o', 'jsonpath={range .items[*]}{.metadata.namespace} {.metadata.name}{"\\n"}{end}'])
    .split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
  const namespace = names[0]?.[0];
  const secret = namespace ? kubectl(['-n', namespace, 'get', 'secret', '--ignore-not-found', 'shop-secrets', '-o', 'name']).trim() : '';
  if (!namespace || !secret) {
    say('SKIP k8s/dev under load: run `npm run cluster -- dev` first (it writes the Secret and the local data tier)');
    return;
  }
  const failed = await verifyDev(namespace, names.map(([, n]) => n));
  failures.push(...failed);
}

/**
 * A server-side dry-run of a namespaced object fails while its namespace does not
 * exist yet (the dry-run does not create the Namespace first), so create the
 * namespaces the manifests use before validating them.
 */
function ensureNamespaces(roots: string[]): void {
  const files: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const f of readdirSync(p)) walk(join(p, f));
    else if (/\.ya?ml$/.test(p)) files.push(p);
  };
  roots.forEach(walk);
  const names = new Set<string>([ns]);
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      const o = doc.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      if (o?.kind === 'Namespace' && o.metadata?.name) names.add(o.metadata.name);
      else if (o?.metadata?.namespace) names.add(o.metadata.namespace);
    }
  }
  for (const n of names) {
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } }));
  }
}

function readyPods(): string[] {
  const out = kubectl([
    '-n', ns, 'get', 'pods', '-l', 'app=web', '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  ]);
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 2 && f[1] === 'True').map((f) => f[0]!);
}

const oneLine = (s: string): string => s.trim().split('\n').join('; ');
