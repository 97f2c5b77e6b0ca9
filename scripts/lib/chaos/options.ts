/** Command-line options of `npm run chaos`, parsed and checked into ChaosOptions. */
import { parseArgs } from 'node:util';
import { POD_ACTIONS, type ChaosOptions, type FaultPlan, type PodAction } from './engine.js';
import { parseDuration, parseRadius, parseSelector } from './plan.js';

export const CHAOS_HELP = `npm run chaos -- [options]

Kills pods (Kubernetes, current kubeconfig) or local replicas (\`npm start\`) on a schedule, safely.

  --mode local|kubernetes   target (default local: the replicas of a running \`npm start\`, same STACK_PORT_OFFSET)
  --namespace NS            Kubernetes namespace (default default)
  --selector k=v[,k=v]      label selector (local replicas carry app=<service>)
  --action LIST             delete,kill,evict,exec-kill (default delete,kill; locally delete=SIGTERM, kill=SIGKILL)
  --interval 10s            time between rounds          --jitter 0.3   ± fraction of the interval
  --count 1                 targets per round            --max-down 1   blast radius per workload: N or P% (e.g. 50%)
  --opt-out k=v             targets with this label are never touched (default chaos.shop/opt-out=true)
  --duration 60s            stop after this long (max 1h)
  --fault C:AT:DOWN         local data-tier fault: stop C (redis|postgres|ferretdb) AT after start for DOWN (e.g. redis:20s:5s); repeatable
  --probe-url URL           GET every 500 ms (default the edge's product list); loopback only
  --abort-below 0.9         abort when the probe's success rate over --abort-window (10s) falls below this
  --dry-run                 print what would be done, do nothing
  --out FILE                write the events as JSON
  -h, --help`;

export interface ChaosCli {
  mode: 'local' | 'kubernetes';
  namespace: string;
  selectorText?: string;
  out?: string;
  options: Omit<ChaosOptions, 'log'>;
}

/** Only loopback URLs are load or probe targets here. */
export function assertLoopback(url: string, what: string): void {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error(`invalid ${what} "${url}"`);
  }
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost' && host !== '[::1]') throw new Error(`${what} ${url} is not a loopback address (127.0.0.0/8, localhost, [::1]); refusing`);
}

export function parseChaosArgs(argv: string[], defaultProbeUrl: string): ChaosCli | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: 'string', default: 'local' },
      namespace: { type: 'string', default: 'default' },
      selector: { type: 'string' },
      action: { type: 'string', default: 'delete,kill' },
      interval: { type: 'string', default: '10s' },
      jitter: { type: 'string', default: '0.3' },
      count: { type: 'string', default: '1' },
      'max-down': { type: 'string', default: '1' },
      'opt-out': { type: 'string', default: 'chaos.shop/opt-out=true' },
      duration: { type: 'string', default: '60s' },
      fault: { type: 'string', multiple: true },
      'probe-url': { type: 'string', default: defaultProbeUrl },
      'abort-below': { type: 'string', default: '0.9' },
      'abort-window': { type: 'string', default: '10s' },
      'dry-run': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.mode !== 'local' && values.mode !== 'kubernetes') throw new Error('--mode must be local or kubernetes');
  const actions = values.action.split(',').map((a) => a.trim());
  for (const a of actions) if (!(POD_ACTIONS as readonly string[]).includes(a)) throw new Error(`--action: unknown action "${a}" (one of ${POD_ACTIONS.join(', ')})`);
  const jitter = Number(values.jitter);
  if (!(jitter >= 0 && jitter <= 1)) throw new Error('--jitter must be from 0 to 1');
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 50) throw new Error('--count must be an integer from 1 to 50');
  const durationMs = parseDuration(values.duration, '--duration');
  if (durationMs > 3_600_000) throw new Error('--duration is at most 1h');
  const threshold = Number(values['abort-below']);
  if (!(threshold >= 0 && threshold <= 1)) throw new Error('--abort-below must be from 0 to 1');
  const [optKey, optValue] = values['opt-out'].split('=');
  if (!optKey || optValue === undefined) throw new Error('--opt-out must be key=value');
  assertLoopback(values['probe-url'], '--probe-url');
  const faults: FaultPlan[] = (values.fault ?? []).map((spec) => {
    const [component, at, down] = spec.split(':');
    if (!component || !['redis', 'postgres', 'ferretdb'].includes(component) || !at || !down) throw new Error(`--fault "${spec}": use redis|postgres|ferretdb:AT:DOWN, e.g. redis:20s:5s`);
    return { component, atMs: parseDuration(at, '--fault time'), downMs: parseDuration(down, '--fault downtime') };
  });
  return {
    mode: values.mode,
    namespace: values.namespace,
    selectorText: values.selector,
    out: values.out,
    options: {
      selector: parseSelector(values.selector),
      optOut: { key: optKey, value: optValue },
      count,
      radius: parseRadius(values['max-down']),
      actions: actions as PodAction[],
      intervalMs: parseDuration(values.interval, '--interval'),
      jitter,
      durationMs,
      dryRun: values['dry-run'],
      faults,
      probe: { url: values['probe-url'], rule: { threshold, windowMs: parseDuration(values['abort-window'], '--abort-window'), minSamples: 5 } },
    },
  };
}
