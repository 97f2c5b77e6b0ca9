/**
 * One networking.k8s.io/v1 Ingress for the public prefixes. `ingressClassName` is a
 * setting and controller specifics come only from the profile, so the same object works
 * with any conformant controller.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { EdgeSettings, Labels } from '../settings.js';
import type { EdgeRoute } from './edge-routes.js';
import type { IngressProfile } from './ingress-profiles.js';

/** Props of {@link ShopIngress}. */
export interface ShopIngressProps {
  readonly edge: EdgeSettings;
  readonly routes: readonly EdgeRoute[];
  readonly profile: IngressProfile;
  readonly labels: Labels;
}

/** The Ingress and whatever its profile needs. */
export class ShopIngress extends Construct {
  constructor(scope: Construct, id: string, props: ShopIngressProps) {
    super(scope, id);
    const { edge, routes } = props;
    const paths: k8s.HttpIngressPath[] = routes.map((r) => ({
      path: r.pathPrefix,
      pathType: 'Prefix',
      backend: { service: { name: r.serviceName, port: { number: r.servicePort } } },
    }));
    new k8s.KubeIngress(this, 'Ingress', {
      metadata: { name: 'shop', labels: { ...props.labels }, annotations: { ...props.profile.ingressAnnotations } },
      spec: {
        ingressClassName: edge.ingress.className,
        tls: edge.tlsSecretName ? [{ hosts: edge.host ? [edge.host] : undefined, secretName: edge.tlsSecretName }] : undefined,
        rules: [{ host: edge.host, http: { paths } }],
      },
    });
  }
}
