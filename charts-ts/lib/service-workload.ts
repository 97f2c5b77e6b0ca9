/**
 * One shop service: ServiceAccount, ConfigMap, Deployment, Service (HTTP kind only),
 * HPA and PDB. Every service, including the future queue worker, is one call of this
 * construct (charts-ts/services.ts).
 */
import { createHash } from 'node:crypto';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import {
  ConfigMap,
  Cpu,
  Deployment,
  DeploymentStrategy,
  Env,
  EnvValue,
  FsGroupChangePolicy,
  Handler,
  ImagePullPolicy,
  LabelSelector,
  PercentOrAbsolute,
  Secret,
  Service,
  ServiceAccount,
  Volume,
  k8s,
} from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CONTAINER_PORT, SERVICE_PORT, secretEnv as secretEnvOf, type ServiceDefinition } from '../services.js';
import type { Labels, ShutdownSettings, SpreadSettings, WorkloadSizing } from '../settings.js';
import { selectorLabels, workloadLabels } from './labels.js';
import { ephemeralStorage, memory, nodeHeapMiB } from './quantities.js';
import { patchPlusPodTemplate, topologySpreadConstraints } from './pod-spec.js';
import { shutdownPlan } from './shutdown.js';
import { WorkloadAutoscaling } from './autoscaling.js';
import { httpProbes } from './probes.js';

/** Props of {@link ServiceWorkload}; optional ones document their default. */
export interface ServiceWorkloadProps {
  readonly definition: ServiceDefinition;
  /** Image by immutable tag or digest (checked by the caller). */
  readonly image: string;
  /** Non-secret env (LOG_LEVEL, REQUEST_TIMEOUT_MS, <NAME>_URL...); SERVICE, PORT and shutdown vars are added here. */
  readonly config: Readonly<Record<string, string>>;
  /** Operator-made Secret holding the definition's `secrets` keys. */
  readonly secretName: string;
  readonly sizing: WorkloadSizing;
  readonly shutdown: ShutdownSettings;
  readonly spread: SpreadSettings;
  readonly cpuUtilization: number;
  readonly memoryUtilization: number;
  /** Annotations on the Service, for edge controllers that read them. @default none */
  readonly serviceAnnotations?: Labels;
  /** User and group id; the Dockerfile creates the same user. @default 10001 */
  readonly runAsUser?: number;
  /** Size of the writable /tmp emptyDir. @default 64 MiB */
  readonly tmpSizeMiB?: number;
}

/** Default uid/gid, above 10000 so it never maps to a host user (plus' documented default is not written). */
export const SHOP_UID = 10001;

/** One deployed service of the shop image. */
export class ServiceWorkload extends Construct {
  /** The Deployment (for tests and cross-construct wiring). */
  public readonly deployment: Deployment;
  /** The ClusterIP Service; undefined for workers. */
  public readonly service?: Service;

  constructor(scope: Construct, id: string, props: ServiceWorkloadProps) {
    super(scope, id);
    const { name, kind } = props.definition;
    const uid = props.runAsUser ?? SHOP_UID;
    const labels = workloadLabels(name, kind === 'http' ? 'api' : 'worker');
    const selector = selectorLabels(name);
    const shutdown = shutdownPlan(props.shutdown, kind);
    const res = props.sizing.resources;
    const disk = ephemeralStorage(res);

    const serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, labels: { ...labels } },
      automountToken: false, // the services never call the Kubernetes API
    });

    const data: Record<string, string> = {
      ...props.config,
      SERVICE: name,
      PORT: String(CONTAINER_PORT),
      NODE_OPTIONS: `--max-old-space-size=${nodeHeapMiB(res.memoryMiB)}`,
      ...shutdown.env,
    };
    const configMap = new ConfigMap(this, 'Config', { metadata: { name: `${name}-config`, labels: { ...labels } }, data });
    // A ConfigMap edit does not restart pods; a content hash on the template does.
    const configHash = createHash('sha256').update(JSON.stringify(Object.entries(data).sort())).digest('hex').slice(0, 16);

    const secret = Secret.fromSecretName(this, 'Secret', props.secretName);
    const secretEnv: Record<string, EnvValue> = {};
    for (const ref of props.definition.secrets) {
      const { env, key } = secretEnvOf(ref);
      secretEnv[env] = EnvValue.fromSecretValue({ secret, key }, { optional: false });
    }

    this.deployment = new Deployment(this, 'Deployment', {
      metadata: { name, labels: { ...labels } },
      select: false,
      podMetadata: {
        labels: { ...labels },
        annotations: {
          'checksum/config': configHash,
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(CONTAINER_PORT),
          'prometheus.io/path': '/metrics',
        },
      },
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: {
        user: uid,
        group: uid,
        fsGroup: uid,
        ensureNonRoot: true,
        fsGroupChangePolicy: FsGroupChangePolicy.ON_ROOT_MISMATCH,
      },
      terminationGracePeriod: Duration.seconds(shutdown.terminationGracePeriodSeconds),
      // Never below the current capacity during a rollout: new pods first, then old ones leave.
      strategy: DeploymentStrategy.rollingUpdate({
        maxSurge: PercentOrAbsolute.percent(25),
        maxUnavailable: PercentOrAbsolute.absolute(0),
      }),
      minReady: Duration.seconds(5),
    });
    this.deployment.select(LabelSelector.of({ labels: { ...selector } }));
    this.deployment.addContainer({
      name,
      image: props.image,
      // The tag is immutable: a node that has it never asks the registry, so scale-out survives a registry outage.
      imagePullPolicy: ImagePullPolicy.IF_NOT_PRESENT,
      ports: [{ number: CONTAINER_PORT, name: 'http' }],
      envFrom: [Env.fromConfigMap(configMap)],
      envVariables: secretEnv,
      resources: {
        cpu: { request: Cpu.millis(res.cpuRequestMillis), limit: Cpu.millis(res.cpuLimitMillis) },
        memory: { request: Size.mebibytes(res.memoryMiB), limit: Size.mebibytes(res.memoryMiB) },
      },
      securityContext: {
        user: uid,
        group: uid,
        ensureNonRoot: true,
        readOnlyRootFilesystem: true,
        privileged: false,
        allowPrivilegeEscalation: false,
        // capabilities: drop ALL is patched in (plus' Capability enum has no ALL).
      },
      ...httpProbes(),
      // exec `sleep`: the native sleep action (K8s 1.30+) is stripped by plus' 1.27 types.
      // The Dockerfile checks that the runtime image has it.
      ...(shutdown.preStopSleepSeconds > 0
        ? { lifecycle: { preStop: Handler.fromCommand(['sleep', String(shutdown.preStopSleepSeconds)]) } }
        : {}),
      volumeMounts: [
        {
          path: '/tmp',
          volume: Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(props.tmpSizeMiB ?? 64) }),
        },
      ],
    });
    patchPlusPodTemplate(ApiObject.of(this.deployment), {
      spread: topologySpreadConstraints(props.spread, selector, ['pod-template-hash']),
    });
    // Patched: plus writes ephemeral-storage only in whole GiB. The patch runs before KubeDeployment's
    // own toJson, which keeps a quantity's `.value` only: hence Quantity objects, not strings.
    const resourcesPath = '/spec/template/spec/containers/0/resources';
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add(`${resourcesPath}/requests/ephemeral-storage`, k8s.Quantity.fromString(memory(disk.requestMiB))),
      JsonPatch.add(`${resourcesPath}/limits/ephemeral-storage`, k8s.Quantity.fromString(memory(disk.limitMiB))),
    );

    if (kind === 'http') {
      this.service = new Service(this, 'Service', {
        metadata: { name, labels: { ...labels }, annotations: { ...props.serviceAnnotations } },
        ports: [{ name: 'http', port: SERVICE_PORT, targetPort: CONTAINER_PORT }],
      });
      // Not `selector: deployment`: plus would select its construct-path label, which the pods no longer carry.
      for (const [key, value] of Object.entries(selector)) this.service.selectLabel(key, value);
    }

    new WorkloadAutoscaling(this, 'Autoscaling', {
      name,
      deployment: this.deployment,
      selector,
      labels,
      sizing: props.sizing,
      cpuUtilization: props.cpuUtilization,
      memoryUtilization: props.memoryUtilization,
    });
  }
}
