// Stage 3: what the product needs from the cluster beyond running pods.
// metrics-server (so HPAs read CPU) and an ingress controller (Traefik) so the
// storefront path goes through an Ingress, as in production.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptDir, versions } from './config.js';
import { kubectl } from './controlplane.js';
import { podsReady } from './node.js';
import { runLogged, say, waitFor } from './proc.js';

export function buildStage3Images(): void {
  say('building metrics-server and Traefik images (Go module proxy + buildah; cached after the first time)...');
  runLogged('build-addons', 'bash', [join(scriptDir, 'build-addons.sh'), 'metrics-server', 'traefik']);
}

export async function startMetricsServer(): Promise<void> {
  const v = versions();
  const manifest = readFileSync(join(scriptDir, 'manifests', 'metrics-server.yaml'), 'utf8').replaceAll(
    'METRICS_SERVER_IMAGE',
    `localhost/metrics-server:${v.METRICS_SERVER_VERSION}`,
  );
  kubectl(['apply', '-f', '-'], manifest);
  await waitFor(
    'metrics-server',
    'node metrics served through the aggregated API (kubectl top node)',
    300,
    () => {
      try {
        return /local-node/.test(kubectl(['top', 'node', '--no-headers']));
      } catch {
        return false;
      }
    },
    { process: 'kubelet' },
  );
}

/** Traefik serving Ingresses of class `traefik`, on NodePort 30080 of the node IP. */
export async function startIngressController(): Promise<void> {
  const v = versions();
  const manifest = readFileSync(join(scriptDir, 'manifests', 'traefik.yaml'), 'utf8').replaceAll(
    'TRAEFIK_IMAGE',
    `localhost/traefik:${v.TRAEFIK_VERSION}`,
  );
  kubectl(['apply', '-f', '-'], manifest);
  await waitFor(
    'traefik',
    'ingress controller Ready (http://10.88.0.1:30080)',
    300,
    () => {
      try {
        return podsReady('ingress', 'app=traefik');
      } catch {
        return false;
      }
    },
    { process: 'kubelet' },
  );
}
