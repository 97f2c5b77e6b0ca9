/**
 * The typed settings of one environment. Every value that differs between
 * environments lives here; the constructs hold the defaults that do not.
 * Adding an environment is adding one file under `environments/` that exports
 * `settings: EnvironmentSettings`.
 */
import type { ServiceName } from './services.js';

/** Label map, as used in selectors and metadata. */
export type Labels = Readonly<Record<string, string>>;

/** CPU in millicores; memory in MiB. Memory request equals the limit (no overcommit, no surprise OOM kills). */
export interface ResourceSpec {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryMiB: number;
  /**
   * Node-local disk (logs, emptyDirs, writable layers). Without it a pod filling the disk
   * is evicted without warning or starves its neighbours. @default DEFAULT_EPHEMERAL_STORAGE (quantities.ts)
   */
  readonly ephemeralStorage?: { readonly requestMiB: number; readonly limitMiB: number };
}

/** Replica bounds and resources of one workload. */
export interface WorkloadSizing {
  readonly resources: ResourceSpec;
  /** HPA minimum; cdk8s-plus would default it to 1, so it is always explicit here. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/**
 * The kit's drain timings (services/kit shutdown). The construct writes them as env vars
 * AND derives `terminationGracePeriodSeconds` from them, so the two cannot drift.
 */
export interface ShutdownSettings {
  /** `preStop` sleep before SIGTERM reaches the process: lets Endpoint removal reach kube-proxy and the edge. */
  readonly preStopSleepSeconds: number;
  /** SHUTDOWN_DELAY_MS: after SIGTERM, readiness 503 while still serving. */
  readonly shutdownDelayMs: number;
  /** SHUTDOWN_TIMEOUT_MS: deadline for in-flight requests after the server stops accepting. */
  readonly shutdownTimeoutMs: number;
  /** JOB_GRACE_MS: queue workers only, time for the current job to finish. */
  readonly jobGraceMs: number;
  /** Slack for closing Mongo/Redis and process exit after the drain. */
  readonly marginSeconds: number;
}

/** `whenUnsatisfiable` of a topology spread constraint; absent topology = no constraint. */
export type SpreadMode = 'ScheduleAnyway' | 'DoNotSchedule';

/** Spread across nodes and zones (never `spread: true`, see charts-ts/lib/pod-spec.ts). */
export interface SpreadSettings {
  readonly hostname?: SpreadMode;
  readonly zone?: SpreadMode;
}

/** Selects peer pods for NetworkPolicies; both absent means nothing, not everything. */
export interface PeerSelector {
  readonly namespaceLabels?: Labels;
  readonly podLabels?: Labels;
}

/** Controller-specific Ingress tuning; see charts-ts/lib/ingress-profiles.ts. */
export type IngressProfileName = 'none' | 'traefik' | 'nginx-inc';

/** The public edge: a plain Ingress, Gateway API, or both. */
export interface EdgeSettings {
  readonly mode: 'ingress' | 'gateway' | 'both';
  /** Public host; absent = any host (fine for a laptop). */
  readonly host?: string;
  /** TLS Secret (created by the operator or cert-manager) for the host. */
  readonly tlsSecretName?: string;
  readonly ingress: {
    readonly className: string;
    readonly profile: IngressProfileName;
  };
  readonly gateway: {
    readonly className: string;
    /**
     * Namespace of the Gateway (created with the app namespace). A separate one keeps
     * implementations that run their proxy pods beside the Gateway (NGINX Gateway Fabric)
     * outside the app's default-deny policies; list it in `peers`.
     */
    readonly namespace: string;
    /** HTTPRoute `retry` is experimental channel (Gateway API v1.2+): only when the installed CRDs have it. */
    readonly experimentalRetry: boolean;
  };
  /** Timeouts and first-line limits shared by every profile. */
  readonly requestTimeoutSeconds: number;
  readonly backendTimeoutSeconds: number;
  readonly maxBodyMiB: number;
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  /** Where the edge proxy pods run, for the NetworkPolicies that admit them. */
  readonly peers: readonly PeerSelector[];
  /**
   * Addresses of the proxies in front of the services (the ingress controller's
   * pods): only a request from these has its X-Forwarded-For read, so rate limits
   * and bot rules count the real client, not the controller (EDGE_TRUSTED_PROXIES;
   * docs/kubernetes.md). The NetworkPolicies already admit only the controller and
   * the services' callers to the pods.
   */
  readonly trustedProxyCidrs: readonly string[];
  /**
   * Callers inside the cluster (the services' pod range): exempt from bot rules,
   * limits and shedding, since each call serves a request already admitted
   * (EDGE_EXEMPT_CIDRS). Ingress traffic resolves to the outside address, so it is not.
   */
  readonly exemptCidrs: readonly string[];
  /** How many trusted proxies may sit in front (EDGE_PROXY_HOPS): 1 = the controller only; 2 with a CDN or load balancer that appends too. */
  readonly proxyHops: number;
}

/** MongoDB replica set run in the cluster (or a compatible server, e.g. FerretDB, by swapping the image). */
export interface InClusterMongoSettings {
  readonly image: string;
  /** `sha256:<64 hex>` of `image` in your registry; pins it (`image@digest`). Prod sets it (docs/kubernetes.md). */
  readonly imageDigest?: string;
  /** Readiness command; default mongosh: the member is PRIMARY or SECONDARY (set it when `command` runs another server). */
  readonly readinessCommand?: readonly string[];
  /** Overrides the container command and args; default `mongod --replSet <name> --bind_ip_all`. */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  /** Appended to the default args (e.g. a WiredTiger cache cap on a laptop). */
  readonly extraArgs?: readonly string[];
  readonly members: number;
  /** Replica set name; absent = a standalone server (no replica set, no initiate Job). */
  readonly replicaSetName?: string;
  /** Replaces the initiate Job's command; `false` disables the Job. Default: mongosh `rs.initiate`. */
  readonly initiate?: false | { readonly image?: string; readonly command: readonly string[] };
  readonly dataPath: string;
  readonly storageGiB: number;
  readonly storageClassName?: string;
  readonly runAsUser: number;
  readonly resources: ResourceSpec;
}

/** Sentinel-managed failover: `replicas` Redis pods (one primary), a sentinel beside each (docs/redis-failover.md). */
export interface RedisSentinelSettings {
  /** Redis pods, primary included; one sentinel runs in each. 3 gives 3 sentinels. */
  readonly replicas: number;
  /** Sentinels that must agree the primary is down; a majority of `replicas` must also be reachable to fail over. */
  readonly quorum: number;
  /** How long a silent primary is tolerated before it counts as down. */
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  /** The sentinel container (and the bootstrap init container). */
  readonly resources: ResourceSpec;
}

/** Redis with AOF persistence: one pod, or a primary with replicas and Sentinel when `sentinel` is set. */
export interface InClusterRedisSettings {
  readonly image: string;
  /** `sha256:<64 hex>` of `image` in your registry; pins it (`image@digest`). Prod sets it (docs/kubernetes.md). */
  readonly imageDigest?: string;
  /** Absent = one pod, no failover (dev). */
  readonly sentinel?: RedisSentinelSettings;
  readonly storageGiB: number;
  readonly storageClassName?: string;
  readonly runAsUser: number;
  readonly resources: ResourceSpec;
}

/** An external endpoint that pods may reach (managed MongoDB/Redis); URIs come from the Secret. */
export interface ExternalEndpoint {
  readonly cidrs: readonly string[];
  readonly port: number;
}

/** Data tier: in the cluster, or managed services reached by CIDR. */
export type DataTierSettings =
  | {
      readonly mode: 'in-cluster';
      readonly mongo: InClusterMongoSettings;
      readonly redis: InClusterRedisSettings;
      readonly spread: SpreadSettings;
    }
  | { readonly mode: 'external'; readonly mongo: ExternalEndpoint; readonly redis: ExternalEndpoint };

/** Everything that makes one environment. */
export interface EnvironmentSettings {
  /** Folder name under k8s/ and the `environment` label. */
  readonly name: string;
  readonly namespace: string;
  /** Immutable tag or digest; `IMAGE` overrides it at synth time. Never `latest`. */
  readonly image: string;
  /** `sha256:<64 hex>` of `image`: pins the shop image by digest (`IMAGE` still overrides both). */
  readonly imageDigest?: string;
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly requestTimeoutMs: number;
  /** Secret with the keys of `SecretKey` (charts-ts/services.ts), created by the operator (docs/kubernetes.md "Secrets"). */
  readonly secretName: string;
  readonly shutdown: ShutdownSettings;
  readonly sizing: {
    readonly default: WorkloadSizing;
    readonly overrides?: Readonly<Partial<Record<ServiceName, Partial<WorkloadSizing>>>>;
  };
  readonly autoscaling: { readonly cpuUtilization: number; readonly memoryUtilization: number };
  readonly spread: SpreadSettings;
  readonly edge: EdgeSettings;
  readonly network: {
    /** Cluster DNS pods (kube-dns/CoreDNS). */
    readonly dns: PeerSelector;
    /** Prometheus, allowed to scrape /metrics; absent = no scrape path. */
    readonly monitoring?: PeerSelector;
  };
  readonly dataTier: DataTierSettings;
}

/** Sizing of one service after applying the environment's overrides. */
export function sizingFor(settings: EnvironmentSettings, name: ServiceName): WorkloadSizing {
  return { ...settings.sizing.default, ...settings.sizing.overrides?.[name] };
}
