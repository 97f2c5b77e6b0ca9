/**
 * MongoDB as a replica set StatefulSet: headless Service (stable member DNS names),
 * PVC per member, PDB, and a one-shot Job that initiates the replica set. The image,
 * command/args and the initiate step are settings, so a MongoDB-compatible server
 * (FerretDB) can take its place, or `dataTier.mode: external` can drop it entirely.
 */
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import type { InClusterMongoSettings, SpreadSettings } from '../settings.js';
import { imageRef } from './image.js';
import { selectorLabels, workloadLabels } from './labels.js';
import { k8sResources } from './quantities.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, topologySpreadConstraints } from './pod-spec.js';
import { dataClaimTemplate, KEEP_CLAIMS, storePdb, storeServiceAccount } from './store-parts.js';

/** Name of the StatefulSet, headless Service and member host prefix. */
export const MONGO_NAME = 'mongo';
/** MongoDB wire port. */
export const MONGO_PORT = 27017;

/** Resources of the one-shot initiate Job; the namespace quota counts them too. */
export const INITIATE_JOB_RESOURCES = { cpuRequestMillis: 50, cpuLimitMillis: 500, memoryMiB: 256 } as const;

/** Whether the settings produce the initiate Job. */
export function hasInitiateJob(s: InClusterMongoSettings): boolean {
  return Boolean(s.replicaSetName) && s.initiate !== false;
}

const READY_EVAL = 'const h = db.hello(); if (!(h.isWritablePrimary || h.secondary)) quit(1)';

/** Props of {@link MongoReplicaSet}. */
export interface MongoReplicaSetProps {
  readonly namespace: string;
  readonly settings: InClusterMongoSettings;
  readonly spread: SpreadSettings;
}

/** Host:port of every member, in the form the replica set config and connection strings use. */
export function mongoMemberHosts(namespace: string, members: number): string[] {
  return Array.from({ length: members }, (_, i) => `${MONGO_NAME}-${i}.${MONGO_NAME}.${namespace}.svc.cluster.local:${MONGO_PORT}`);
}

/** The connection string services should get in MONGODB_URI for this data tier. */
export function inClusterMongoUri(namespace: string, s: InClusterMongoSettings, database = 'shop'): string {
  const query = s.replicaSetName ? `?replicaSet=${s.replicaSetName}` : '';
  return `mongodb://${mongoMemberHosts(namespace, s.members).join(',')}/${database}${query}`;
}

/** MongoDB StatefulSet, its Services, PDB and replica-set initiation. */
export class MongoReplicaSet extends Construct {
  constructor(scope: Construct, id: string, props: MongoReplicaSetProps) {
    super(scope, id);
    const s = props.settings;
    const labels = workloadLabels(MONGO_NAME, 'database');
    const selector = selectorLabels(MONGO_NAME);
    const replSetArgs = s.replicaSetName ? ['--replSet', s.replicaSetName] : [];

    storeServiceAccount(this, MONGO_NAME, labels);

    new k8s.KubeService(this, 'Headless', {
      metadata: { name: MONGO_NAME, labels: { ...labels } },
      spec: {
        clusterIp: 'None',
        // Members must resolve each other before they are ready, or the replica set never forms.
        publishNotReadyAddresses: true,
        selector: { ...selector },
        ports: [{ name: 'mongo', port: MONGO_PORT, targetPort: k8s.IntOrString.fromNumber(MONGO_PORT) }],
      },
    });

    const tcp = { tcpSocket: { port: k8s.IntOrString.fromNumber(MONGO_PORT) } };
    const image = imageRef(s.image, s.imageDigest);
    // Ready = a member that serves (PRIMARY or SECONDARY, not STARTUP2/RECOVERING), so the PDB
    // never lets a second member go while one is still catching up; alive = mongod accepts connections.
    const ready = [...(s.readinessCommand ?? ['mongosh', '--quiet', '--port', String(MONGO_PORT), '--eval', READY_EVAL])];
    new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { name: MONGO_NAME, labels: { ...labels } },
      spec: {
        serviceName: MONGO_NAME,
        replicas: s.members,
        // Members start together; the initiate Job waits for them.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { ...selector } },
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            serviceAccountName: MONGO_NAME,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(s.runAsUser),
            terminationGracePeriodSeconds: 60, // mongod flushes and steps down on SIGTERM
            topologySpreadConstraints: topologySpreadConstraints(props.spread, selector),
            containers: [
              {
                name: 'mongod',
                image,
                // Bypasses the image entrypoint, which wants to chown as root; runs non-root directly.
                command: [...(s.command ?? ['mongod'])],
                args: [...(s.args ?? [...replSetArgs, '--bind_ip_all', '--port', String(MONGO_PORT), '--dbpath', s.dataPath, ...(s.extraArgs ?? [])])],
                ports: [{ name: 'mongo', containerPort: MONGO_PORT }],
                resources: k8sResources(s.resources),
                securityContext: restrictedContainerSecurityContext(s.runAsUser),
                startupProbe: { ...tcp, periodSeconds: 5, failureThreshold: 60 },
                readinessProbe: { exec: { command: ready }, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 3 },
                env: [{ name: 'HOME', value: '/tmp' }], // mongosh (readiness) writes under $HOME
                livenessProbe: { ...tcp, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
                volumeMounts: [
                  { name: 'data', mountPath: s.dataPath },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
          },
        },
        volumeClaimTemplates: [dataClaimTemplate(labels, s)],
        persistentVolumeClaimRetentionPolicy: KEEP_CLAIMS,
      },
    });

    // One member at a time keeps a majority (2 of 3) and thus a primary during drains.
    storePdb(this, MONGO_NAME, labels, selector);

    if (s.replicaSetName && hasInitiateJob(s)) {
      new MongoInitiateJob(this, 'Initiate', { namespace: props.namespace, settings: s, replicaSetName: s.replicaSetName });
    }
  }
}

/**
 * Idempotent replica-set initiation: re-running it (a re-applied Job, a retry) is a no-op
 * once the set exists. Failing to connect exits non-zero, so the Job retries with backoff
 * until the members are up.
 */
class MongoInitiateJob extends Construct {
  constructor(scope: Construct, id: string, props: { namespace: string; settings: InClusterMongoSettings; replicaSetName: string }) {
    super(scope, id);
    const s = props.settings;
    const name = `${MONGO_NAME}-initiate`;
    const labels = workloadLabels(name, 'init');
    const members = mongoMemberHosts(props.namespace, s.members).map((host, i) => ({ _id: i, host }));
    const script = [
      'try { rs.status(); print("replica set already initiated"); }',
      'catch (e) {',
      '  if (e.codeName !== "NotYetInitialized") throw e;',
      `  rs.initiate(${JSON.stringify({ _id: props.replicaSetName, members })});`,
      '  print("replica set initiated");',
      '}',
    ].join('\n');
    const override = s.initiate || undefined;
    const command = override ? [...override.command] : ['mongosh', '--quiet', `mongodb://${members[0]!.host}/admin?directConnection=true`, '--eval', script];

    new k8s.KubeJob(this, 'Job', {
      metadata: { name, labels: { ...labels } },
      spec: {
        backoffLimit: 12,
        template: {
          metadata: { labels: { ...labels } },
          spec: {
            restartPolicy: 'OnFailure',
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(s.runAsUser),
            containers: [
              {
                name: 'initiate',
                image: override?.image ?? imageRef(s.image, s.imageDigest),
                command,
                env: [{ name: 'HOME', value: '/tmp' }], // mongosh writes its history under $HOME
                resources: k8sResources(INITIATE_JOB_RESOURCES),
                securityContext: restrictedContainerSecurityContext(s.runAsUser),
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } }],
          },
        },
      },
    });
  }
}
