// `npm run cluster -- dev`: run k8s/dev for real on the running cluster (stage 2+).
//
//  1. images: the project's (from its Dockerfile, `image`), FerretDB and Redis
//     (build-addons.sh), imported into containerd;
//  2. the local data tier (manifests/local-data.yaml: FerretDB + Redis);
//  3. the operator's Secret `shop-secrets` (MONGODB_URI, REDIS_URL, ADMIN_TOKEN, INTERNAL_TOKEN, CUSTOMER_TOKEN_SECRET) in
//     k8s/dev's namespace, pointing the services at that data tier: configuration,
//     not a fork of the manifests;
//  4. `kubectl apply -R -f k8s/dev`, then a bounded wait for every Deployment.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { paths, repoRoot, scriptDir, versions } from './config.js';
import { kubectl } from './controlplane.js';
import { importImages } from './node.js';
import { ClusterError, pidOf, runLogged, say, waitFor } from './proc.js';

const devDir = join(repoRoot, 'k8s', 'dev');

interface Doc {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}

function devDocs(): Doc[] {
  const docs: Doc[] = [];
  for (const f of readdirSync(devDir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
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
  runLogged('build-addons', 'bash', [join(scriptDir, 'build-addons.sh'), 'ferretdb', 'redis']);
  const redisRef = readFileSync(join(paths.images, 'redis.ref'), 'utf8').trim(); // written by build-addons.sh
  importImages([
    ['app.tar', appImage],
    ['ferretdb.tar', `localhost/ferretdb:${v.FERRETDB_VERSION}`],
    ['redis.tar', redisRef],
  ]);

  // 2. data tier
  const data = readFileSync(join(scriptDir, 'manifests', 'local-data.yaml'), 'utf8')
    .replaceAll('FERRETDB_IMAGE', `localhost/ferretdb:${v.FERRETDB_VERSION}`)
    .replaceAll('REDIS_IMAGE', redisRef);
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
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
  kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'shop-secrets', namespace },
    stringData: {
      MONGODB_URI: 'mongodb://ferretdb.local-data.svc.cluster.local:27017/shop',
      REDIS_URL: 'redis://redis.local-data.svc.cluster.local:6379',
      ADMIN_TOKEN: secretFile('admin-token'),
      INTERNAL_TOKEN: secretFile('internal-token'),
      CUSTOMER_TOKEN_SECRET: secretFile('customer-token-secret'),
    },
  }));

  await waitFor('local data tier', 'FerretDB and Redis ready', 180, () => {
    try {
      return kubectl(['-n', 'local-data', 'get', 'deploy', '-o', 'jsonpath={.items[*].status.readyReplicas}']).trim() === '1 1';
    } catch {
      return false;
    }
  }, { process: 'kubelet' });

  // 4. k8s/dev
  try {
    say(kubectl(['apply', '-R', '-f', devDir]).trim().split('\n').length + ' objects applied from k8s/dev');
  } catch (e) {
    say(`WARNING: kubectl apply -f k8s/dev reported errors (the rest was applied): ${(e as Error).message.split('\n').filter((l) => /^error/i.test(l)).join(' | ')}`);
  }
  for (const d of deployments) {
    const name = d.metadata!.name!;
    await waitFor(`deployment ${namespace}/${name}`, 'all replicas Ready', 300, () => {
      try {
        const [want, ready] = kubectl(['-n', namespace, 'get', 'deploy', name, '-o', 'jsonpath={.spec.replicas} {.status.readyReplicas}']).split(' ');
        return Number(ready) >= Number(want) && Number(want) > 0;
      } catch {
        return false;
      }
    }, { process: 'kubelet' });
  }
  console.log(kubectl(['-n', namespace, 'get', 'deploy,hpa,pdb,ingress,pods', '-o', 'wide']).trimEnd());
  await verifyDev(namespace, deployments.map((d) => d.metadata!.name!));
}

/** Services answer, a killed pod is replaced, an eviction that would break a PDB is refused, the Ingress routes. */
export async function verifyDev(namespace: string, names: string[]): Promise<void> {
  const k = (args: string[]): string => kubectl(['-n', namespace, ...args]);
  for (const name of names) {
    const ip = k(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}:{.spec.ports[0].port}']);
    const res = await fetch(`http://${ip}/readyz`, { signal: AbortSignal.timeout(5000) });
    say(`${res.ok ? 'PASS' : 'FAIL'} service ${name} (${ip}) /readyz ${res.status} ${(await res.text()).slice(0, 120)}`);
  }

  const target = names[0]!;
  const podsOf = (): string[] =>
    k(['get', 'pods', '-l', `app.kubernetes.io/name=${target}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])
      .split('\n').filter((l) => l.endsWith('=True')).map((l) => l.split('=')[0]!);
  const victim = podsOf()[0]!;
  k(['delete', 'pod', victim, '--wait=false']);
  await waitFor(`deployment ${namespace}/${target}`, `ReplicaSet replaced killed pod ${victim} with a Ready pod`, 180,
    () => podsOf().some((p) => p !== victim), { process: 'kubelet' });
  say(`PASS killed pod ${victim} replaced by ${podsOf().filter((p) => p !== victim).join(', ')}`);

  // Evictions go through the PodDisruptionBudgets: where a budget has no disruption
  // left, evicting one of its pods must be refused (429); elsewhere it is allowed.
  const pdbs = k(['get', 'pdb', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.disruptionsAllowed} {.spec.selector.matchLabels.app\\.kubernetes\\.io/name}{"\\n"}{end}']);
  for (const line of pdbs.split('\n').filter(Boolean)) {
    const [pdb, allowed, app] = line.split(' ');
    if (allowed !== '0') {
      say(`INFO PDB ${pdb} allows ${allowed} disruption(s) now, so an eviction would be allowed`);
      continue;
    }
    // Only a healthy (Ready) pod tests the budget: unhealthy ones may be evicted by policy.
    const pod = k(['get', 'pods', '-l', `app.kubernetes.io/name=${app}`, '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])
      .split('\n').find((l) => l.endsWith('=True'))?.split('=')[0];
    if (!pod) {
      say(`SKIP PDB ${pdb}: no Ready pod to evict`);
      continue;
    }
    const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace } });
    let result = 'allowed';
    try {
      kubectl(['create', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, '-f', '-'], body);
    } catch (e) {
      result = /disruption budget|429|TooManyRequests/i.test((e as Error).message) ? 'refused' : `error ${(e as Error).message.split('\n')[1] ?? ''}`;
    }
    say(`${result === 'refused' ? 'PASS' : 'FAIL'} PDB ${pdb} (0 disruptions allowed): eviction of ${pod} ${result}`);
  }

  {
    try {
      const url = 'http://10.88.0.1:30080/api/catalog/products';
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      say(`${res.ok ? 'PASS' : 'FAIL'} storefront path through the Ingress (Traefik): GET ${url} -> ${res.status} ${(await res.text()).slice(0, 100)}`);
    } catch (e) {
      say(`SKIP Ingress: nothing answers on http://10.88.0.1:30080 (${(e as Error).message}); the ingress controller runs in stage 3`);
    }
  }
}
