// `npm run cluster -- dev`: run k8s/dev for real on the running cluster (stage 2+).
//
//  1. images: the project's (from its Dockerfile, `image`), PostgreSQL, FerretDB and
//     Redis (build-addons.sh), imported into containerd;
//  2. the local data tier (manifests/local-data.yaml: FerretDB on PostgreSQL, Redis);
//  3. the operator's Secret `shop-secrets` (MONGODB_URI, REDIS_URL, ADMIN_TOKEN_SHA256, INTERNAL_TOKEN, INTERNAL_TOKEN_SHA256, CUSTOMER_TOKEN_SECRET) in
//     k8s/dev's namespace, pointing the services at that data tier: configuration,
//     not a fork of the manifests;
//  4. `kubectl apply` of k8s/dev *without its own data tier* (20-data-tier.yaml: the
//     mongo:7 and redis:7 StatefulSets, whose images cannot be pulled here and which
//     the Secret does not point at), then a bounded wait for every Deployment's pods;
//  5. checks (verifyDev): a pod of each service killed under load, an eviction refused
//     by the service's own PDB, the Ingress.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { paths, repoRoot, scriptDir, versions } from './config.js';
import { kubectl } from './controlplane.js';
import { killUnderLoad, reportRun } from './load-kill.js';
import { importImages, podsReady } from './node.js';
import { ClusterError, pidOf, runLogged, say, sleep, waitFor } from './proc.js';

const devDir = join(repoRoot, 'k8s', 'dev');

interface Doc {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}

/** k8s/dev's own in-cluster data tier (charts-ts writes it to this file when `dataTier.mode` is in-cluster). */
const isDataTierFile = (f: string): boolean => /data-tier\.ya?ml$/.test(f);

/** k8s/dev's files without its data tier: what runs here, next to the local data tier. */
export function devFilesWithoutDataTier(): string[] {
  return readdirSync(devDir).filter((x) => /\.ya?ml$/.test(x) && !isDataTierFile(x)).sort().map((f) => join(devDir, f));
}

/** Remove k8s/dev's data tier if an earlier run applied it (its pods would sit in ImagePullBackOff). */
export function removeDevDataTier(): void {
  for (const f of readdirSync(devDir).filter(isDataTierFile)) {
    const out = kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', join(devDir, f)]).trim();
    if (out) say(`removed k8s/dev's own data tier (${f}): ${out.split('\n').join('; ')}`);
  }
}

function devDocs(): Doc[] {
  const docs: Doc[] = [];
  for (const f of devFilesWithoutDataTier().map((p) => p.slice(devDir.length + 1))) {
    for (const d of parseAllDocuments(readFileSync(join(devDir, f), 'utf8'))) {
      const o = d.toJSON() as Doc | null;
      if (o) docs.push(o);
    }
  }
  return docs;
}

export async function deployDev(): Promise<void> {
  if (!pidOf('kubelet')) throw new ClusterError('no node running: `npm run cluster -- up` (stage 2 or 3) first');
  if (!existsSync(devDir)) throw new ClusterError('k8s/dev does not exist yet');
  const t0 = Date.now();
  const docs = devDocs();
  const deployments = docs.filter((d) => d.kind === 'Deployment');
  const namespace = deployments[0]?.metadata?.namespace ?? 'default';
  const appImage = deployments[0]?.spec?.template?.spec?.containers?.[0]?.image;
  if (!appImage) throw new ClusterError('no Deployment with an image in k8s/dev');

  // 1. images
  const v = versions();
  if (!existsSync(join(paths.images, 'app.tar'))) {
    say(`building the project's image ${appImage} (log: .cluster/logs/build-app-image.log)`);
    runLogged('build-app-image', 'bash', [join(scriptDir, 'build-app-image.sh'), appImage]);
  }
  runLogged('build-addons', 'bash', [join(scriptDir, 'build-addons.sh'), 'postgres', 'ferretdb', 'redis', 'busybox']);
  const ref = (name: string): string => readFileSync(join(paths.images, `${name}.ref`), 'utf8').trim(); // written by build-addons.sh
  importImages([
    ['app.tar', appImage],
    ['postgres.tar', ref('postgres')],
    ['ferretdb.tar', `localhost/ferretdb:${v.FERRETDB_VERSION}`],
    ['redis.tar', ref('redis')],
    ['busybox.tar', 'localhost/busybox:smoke'],
  ]);

  // 2. data tier
  const data = readFileSync(join(scriptDir, 'manifests', 'local-data.yaml'), 'utf8')
    .replaceAll('POSTGRES_IMAGE', ref('postgres'))
    .replaceAll('BUSYBOX_IMAGE', 'localhost/busybox:smoke')
    .replaceAll('FERRETDB_IMAGE', `localhost/ferretdb:${v.FERRETDB_VERSION}`)
    .replaceAll('REDIS_IMAGE', ref('redis'));
  kubectl(['apply', '-f', '-'], data);

  // 3. the operator's Secret
  // One file per secret, each its own random value (issue 9, item 9: no service token doubles as the admin token).
  const secretFile = (name: string) => {
    const file = join(paths.state, name);
    if (!existsSync(file)) {
      mkdirSync(paths.state, { recursive: true });
      writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600 });
    }
    return readFileSync(file, 'utf8').trim();
  };
  const sha256Hex = (token: string) => createHash('sha256').update(token).digest('hex');
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
  kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'shop-secrets', namespace },
    stringData: {
      MONGODB_URI: 'mongodb://ferretdb.local-data.svc.cluster.local:27017/shop',
      REDIS_URL: 'redis://redis.local-data.svc.cluster.local:6379',
      // Services only verify the admin token: the cluster gets its digest; the token stays in .cluster/state/admin-token.
      ADMIN_TOKEN_SHA256: sha256Hex(secretFile('admin-token')),
      INTERNAL_TOKEN: secretFile('internal-token'),
      INTERNAL_TOKEN_SHA256: sha256Hex(secretFile('internal-token')),
      CUSTOMER_TOKEN_SECRET: secretFile('customer-token-secret'),
    },
  }));

  for (const app of ['postgres', 'ferretdb', 'redis']) {
    await waitFor(`local data tier: ${app}`, 'pod Ready', 180, () => {
      try {
        return podsReady('local-data', `app=${app}`);
      } catch {
        return false;
      }
    }, { process: 'kubelet' });
  }

  // 4. k8s/dev without its own data tier
  removeDevDataTier();
  try {
    const applied = kubectl(['apply', ...devFilesWithoutDataTier().flatMap((f) => ['-f', f])]).trim().split('\n').length;
    say(`${applied} objects applied from k8s/dev (its own data tier left out: the local data tier serves it)`);
  } catch (e) {
    say(`WARNING: kubectl apply -f k8s/dev reported errors (the rest was applied): ${(e as Error).message.split('\n').filter((l) => /^error/i.test(l)).join(' | ')}`);
  }
  for (const d of deployments) {
    const name = d.metadata!.name!;
    // The HPA owns the replica count (the Deployment starts at 1 and is raised to the HPA minimum).
    const min = minReplicas(namespace, name);
    await waitFor(`deployment ${namespace}/${name}`, `${min} pods Ready`, 300, () => {
      try {
        return podsReady(namespace, `app.kubernetes.io/name=${name}`, min);
      } catch {
        return false;
      }
    }, { process: 'kubelet' });
  }
  say(`dev: k8s/dev running in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  console.log(kubectl(['-n', namespace, 'get', 'deploy,hpa,pdb,ingress,pods', '-o', 'wide']).trimEnd());
  const failed = await verifyDev(namespace, deployments.map((d) => d.metadata!.name!));
  if (failed.length) throw new ClusterError(`dev: ${failed.length} check(s) failed: ${failed.join('; ')}`);
  say('dev: all checks passed');
}

/** The HPA minimum of a Deployment, else its replicas, else 1. */
function minReplicas(namespace: string, name: string): number {
  try {
    const min = Number(kubectl(['-n', namespace, 'get', 'hpa', name, '-o', 'jsonpath={.spec.minReplicas}']));
    if (min > 0) return min;
  } catch {
    /* no HPA */
  }
  return Math.max(1, Number(kubectl(['-n', namespace, 'get', 'deploy', name, '-o', 'jsonpath={.spec.replicas}'])) || 1);
}

/** Where the storefront reaches each service: the Ingress path on the node IP, else the Service IP from the host. */
function loadTarget(namespace: string, name: string): { url: string; via: string } {
  const paths = kubectl(['-n', namespace, 'get', 'ingress', '-o',
    'jsonpath={range .items[*].spec.rules[*].http.paths[*]}{.backend.service.name} {.path}{"\\n"}{end}']);
  const prefix = paths.split('\n').map((l) => l.trim().split(' ')).find(([svc]) => svc === name)?.[1];
  // A JSON answer of the service itself (a stable status, not HTML, not 405 for a POST-only path).
  const probe: Record<string, string> = {
    catalog: '/products', cart: '/cart', inventory: '/availability/LOAD-TEST-SKU', checkout: '/openapi.json',
    customers: '/openapi.json', support: '/openapi.json', fulfillment: '/openapi.json', storefront: '/docs/openapi.json',
  };
  if (prefix) return { url: `http://10.88.0.1:30080${prefix.replace(/\/$/, '')}${probe[name] ?? '/'}`, via: 'Ingress' };
  const ip = kubectl(['-n', namespace, 'get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}:{.spec.ports[0].port}']);
  return { url: `http://${ip}/api/${name}${probe[name] ?? '/'}`, via: 'Service IP (not routed by the Ingress)' };
}

/**
 * A pod of each service killed under load (no failed request a retrying client would
 * see), an eviction refused by each service's own PDB, the Ingress. Returns the names
 * of the failed checks.
 */
export async function verifyDev(namespace: string, names: string[]): Promise<string[]> {
  const failed: string[] = [];
  const k = (args: string[]): string => kubectl(['-n', namespace, ...args]);
  for (const name of names) {
    const ip = k(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}:{.spec.ports[0].port}']);
    try {
      const res = await fetch(`http://${ip}/readyz`, { signal: AbortSignal.timeout(5000) });
      say(`${res.ok ? 'PASS' : 'FAIL'} service ${name} (${ip}) /readyz ${res.status} ${(await res.text()).slice(0, 120)}`);
      if (!res.ok) failed.push(`${name} /readyz`);
    } catch (e) {
      say(`FAIL service ${name} (${ip}) /readyz: ${(e as Error).message}`);
      failed.push(`${name} /readyz`);
    }
  }

  const allReady = async (name: string): Promise<void> => {
    const min = minReplicas(namespace, name);
    await waitFor(`deployment ${namespace}/${name}`, `${min} pods Ready`, 180, () => podsReady(namespace, `app.kubernetes.io/name=${name}`, min), { process: 'kubelet' });
  };

  // A pod of each service killed under load: deleted as an eviction or rollout would,
  // then force-deleted as after a crash.
  for (const mode of ['graceful', 'force'] as const) {
    for (const name of names) {
      await allReady(name);
      const { url, via } = loadTarget(namespace, name);
      try {
        const r = await killUnderLoad({ namespace, selector: `app.kubernetes.io/name=${name}`, url, maxRequests: 300, maxSeconds: 60, mode });
        if (!reportRun(`${name} via ${via} ${url}`, r)) failed.push(`${name} pod ${mode} kill under load`);
      } catch (e) {
        say(`FAIL ${name} pod ${mode} kill under load: ${(e as Error).message}`);
        failed.push(`${name} pod ${mode} kill under load`);
      }
    }
  }

  // The service's own PDB (maxUnavailable 1 at 2 replicas): a first eviction is allowed,
  // a second one right after it is refused while the evicted pod's replacement starts.
  const target = names.includes('catalog') ? 'catalog' : names[0]!;
  await allReady(target);
  const pods = k(['get', 'pods', '-l', `app.kubernetes.io/name=${target}`, '-o', 'jsonpath={.items[*].metadata.name}']).split(' ').filter(Boolean);
  const evict = (pod: string): string => {
    const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } });
    try {
      kubectl(['create', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, '-f', '-'], body);
      return 'allowed';
    } catch (e) {
      const msg = (e as Error).message;
      return /disruption budget|429|TooManyRequests/i.test(msg) ? `refused (${/Cannot evict[^"]*/.exec(msg)?.[0] ?? '429'})` : `error ${msg.split('\n')[0]}`;
    }
  };
  if (pods.length < 2) {
    say(`FAIL PDB ${namespace}/${target}: ${pods.length} pod(s), the budget cannot keep one while allowing one`);
    return [...failed, `PDB ${target}`];
  }
  const first = evict(pods[0]!);
  const second = first === 'allowed' ? evict(pods[1]!) : 'not tried';
  const pdbOk = first === 'allowed' && second.startsWith('refused');
  say(`${pdbOk ? 'PASS' : 'FAIL'} PDB ${namespace}/${target} keeps one pod: eviction of ${pods[0]} ${first}; eviction of ${pods[1]} right after ${second}`);
  if (!pdbOk) failed.push(`PDB ${target}`);
  await sleep(1000);
  await allReady(target);

  try {
    const url = 'http://10.88.0.1:30080/api/catalog/products';
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    say(`${res.ok ? 'PASS' : 'FAIL'} storefront path through the Ingress (Traefik): GET ${url} -> ${res.status} ${(await res.text()).slice(0, 100)}`);
    if (!res.ok) failed.push('Ingress');
  } catch (e) {
    say(`SKIP Ingress: nothing answers on http://10.88.0.1:30080 (${(e as Error).message}); the ingress controller runs in stage 3`);
  }
  return failed;
}
