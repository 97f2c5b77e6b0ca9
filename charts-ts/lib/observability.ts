/**
 * What an SRE needs to watch the shop (issue 15): a ServiceMonitor per HTTP service
 * (a PodMonitor for queue workers, which have no Service), a PrometheusRule with
 * multiwindow multi-burn-rate SLO alerts (Google SRE workbook, ch. 5) plus alerts for
 * queue backlog, stuck orders and restarting replicas, and a Grafana dashboard in a
 * ConfigMap labelled for the Grafana sidecar. These need the Prometheus Operator's
 * CRDs, so they are written to `k8s/<env>/monitoring/`, applied separately.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { ServiceDefinition } from '../services.js';
import { selectorLabels } from './labels.js';
import { shopDashboard } from './dashboard.js';

export interface ObservabilityProps {
  readonly namespace: string;
  readonly services: readonly ServiceDefinition[];
  /** Labels on every object (part-of, managed-by). */
  readonly labels: Readonly<Record<string, string>>;
  /** Availability SLO, e.g. 0.999: share of non-5xx answers. */
  readonly availabilityTarget?: number;
  /** Latency SLO: share of requests answered within `latencyThresholdSeconds`. */
  readonly latencyTarget?: number;
  /** A histogram bucket bound of http_request_duration_seconds. */
  readonly latencyThresholdSeconds?: number;
  /** Label the Prometheus instance selects rules and monitors by. @default { release: 'prometheus' } */
  readonly prometheusSelector?: Readonly<Record<string, string>>;
}

/** Burn-rate windows: [long, short, factor, severity]; a page fires when both windows burn. */
const BURN_WINDOWS: ReadonlyArray<readonly [string, string, number, 'page' | 'ticket']> = [
  ['1h', '5m', 14.4, 'page'],
  ['6h', '30m', 6, 'ticket'],
];

const WINDOWS = [...new Set(BURN_WINDOWS.flatMap(([long, short]) => [long, short]))];

function sloRules(availabilityTarget: number, latencyTarget: number, threshold: number) {
  const recording = WINDOWS.flatMap((w) => [
    {
      record: `shop:http_error_ratio:rate${w}`,
      expr: `sum by (service) (rate(http_request_duration_seconds_count{status=~"5.."}[${w}])) / sum by (service) (rate(http_request_duration_seconds_count[${w}]))`,
    },
    {
      record: `shop:http_slow_ratio:rate${w}`,
      expr: `1 - (sum by (service) (rate(http_request_duration_seconds_bucket{le="${threshold}"}[${w}])) / sum by (service) (rate(http_request_duration_seconds_count[${w}])))`,
    },
  ]);
  const burn = (kind: 'error' | 'slow', target: number, name: string, what: string) =>
    BURN_WINDOWS.map(([long, short, factor, severity]) => ({
      alert: `${name}BudgetBurn${severity === 'page' ? 'Fast' : 'Slow'}`,
      expr: `shop:http_${kind}_ratio:rate${long} > (${factor} * ${(1 - target).toFixed(6)}) and shop:http_${kind}_ratio:rate${short} > (${factor} * ${(1 - target).toFixed(6)})`,
      for: severity === 'page' ? '2m' : '15m',
      labels: { severity },
      annotations: {
        summary: `{{ $labels.service }} is burning its ${what} error budget ${factor}x too fast`,
        description: `${what} SLO ${target * 100}%: over ${long} and ${short}, the bad share is above ${factor}x the budget. At this rate the 30-day budget lasts ${Math.round(30 / factor * 10) / 10} days.`,
      },
    }));
  return [
    { name: 'shop-slo-recording', rules: recording },
    { name: 'shop-slo-alerts', rules: [...burn('error', availabilityTarget, 'Availability', 'availability'), ...burn('slow', latencyTarget, 'Latency', `latency (${threshold}s)`)] },
  ];
}

const OPERATIONS_RULES = {
  name: 'shop-operations',
  rules: [
    {
      alert: 'FulfillmentQueueBacklog',
      // Each pod with the queue reports the whole queue: one count per state (max), then summed over states.
      expr: 'sum by (queue) (max by (queue, state) (queue_jobs{state=~"waiting|delayed"})) > 500',
      for: '10m',
      labels: { severity: 'page' },
      annotations: { summary: 'Queue {{ $labels.queue }} has {{ $value }} jobs waiting for 10 minutes', description: 'Orders are paid but not shipping. Check the fulfillment workers (replicas, failures, carrier rate limit).' },
    },
    {
      alert: 'FulfillmentJobsFailing',
      expr: 'sum by (queue) (rate(queue_job_outcomes_total{outcome="failed"}[10m])) > 0.1',
      for: '10m',
      labels: { severity: 'ticket' },
      annotations: { summary: 'Jobs of {{ $labels.queue }} keep failing', description: 'Failed jobs land in the dead-letter list of the queue dashboard (/api/fulfillment/admin/queues); retry them there once the cause is fixed.' },
    },
    {
      alert: 'OrdersStuck',
      // Set by every checkout replica's recovery pass to the same cluster-wide count: max.
      expr: 'max(checkout_orders_stuck) > 0',
      for: '15m',
      labels: { severity: 'page' },
      annotations: { summary: '{{ $value }} orders unsettled for over CHECKOUT_STUCK_ALERT_AFTER_MS (5 min), for 15 minutes', description: 'Orders still pending, or failed without their units given back: the checkout recovery job should move every pending order forward or compensate it. Check checkout logs (recovery), the payment provider, cart and inventory; see docs/checkout.md.' },
    },
    {
      alert: 'ReplicasRestarting',
      expr: 'sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace="__NAMESPACE__"}[15m])) > 2',
      for: '5m',
      labels: { severity: 'ticket' },
      annotations: { summary: 'Pod {{ $labels.pod }} restarted more than twice in 15 minutes', description: 'Crash loop or failing liveness probe: check its logs and events.' },
    },
  ],
};

/** The monitoring objects of one environment. */
export class ShopObservability extends Construct {
  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const selector = props.prometheusSelector ?? { release: 'prometheus' };
    const labels = { ...props.labels, ...selector };
    for (const s of props.services) {
      const endpoint = { port: 'http', path: '/metrics', interval: '15s' };
      // Workers have no Service to select, so they are scraped by pod.
      const http = s.kind === 'http';
      new ApiObject(this, `${http ? 'sm' : 'pm'}-${s.name}`, {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: http ? 'ServiceMonitor' : 'PodMonitor',
        metadata: { name: s.name, labels },
        spec: {
          selector: { matchLabels: { ...selectorLabels(s.name) } },
          namespaceSelector: { matchNames: [props.namespace] },
          [http ? 'endpoints' : 'podMetricsEndpoints']: [endpoint],
        },
      });
    }
    const operations = JSON.parse(JSON.stringify(OPERATIONS_RULES).replaceAll('__NAMESPACE__', props.namespace)) as typeof OPERATIONS_RULES;
    new ApiObject(this, 'rules', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'shop-slo', labels },
      spec: { groups: [...sloRules(props.availabilityTarget ?? 0.999, props.latencyTarget ?? 0.99, props.latencyThresholdSeconds ?? 0.5), operations] },
    });
    new ApiObject(this, 'dashboard', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'shop-dashboard', labels: { ...props.labels, grafana_dashboard: '1' } },
      data: { 'shop.json': JSON.stringify(shopDashboard(props.services.map((s) => s.name)), null, 1) },
    });
  }
}
