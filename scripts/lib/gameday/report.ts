/**
 * The gameday report: JSON with the fields of DESIGN.md "Chaos and gameday"
 * (plus extras), a self-contained HTML page with an inline SVG chart
 * (throughput, error rate, p99 per second; chaos events marked), and a summary.
 */
import type { ChaosEvent } from '../chaos/engine.js';
import type { SecondPoint } from '../load/stats.js';
import type { Thresholds } from './verdict.js';

export interface GamedayReport {
  mode: 'local' | 'kubernetes';
  /** `sentinel`: primary + replica + 3 sentinels, and the Redis fault kills the primary (failover). */
  redis?: 'single' | 'sentinel';
  startedAt: string;
  durationS: number;
  targetRps: number;
  requests: { total: number; ok: number; failed: number; byStatus: Record<string, number>; unavailable: number; attempts: number; retries: number };
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  checkout: { available: boolean; acknowledged: number; persisted: number; lost: number; lostIds: string[]; duplicateCharges: number; shipped: number; declined: number; failedAfterRetries: number; ordersByStatus: Record<string, number> };
  inventory: { oversoldUnits: number; oversoldSkus: string[]; invariantOk: boolean | null };
  chaos: { kills: number; faults: number; refusals: number; events: ChaosEvent[] };
  recoveryS: { max: number; each: number[]; unrecovered: number };
  slo: { successRate: number; target: number; met: boolean };
  queues: Record<string, { waiting: number; active: number; failed: number; delayed: number }>;
  thresholds: Thresholds;
  endpoints: Record<string, unknown>;
  timeline: SecondPoint[];
  notices: string[];
  reasons: string[];
  verdict: 'pass' | 'fail';
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One panel: a polyline over seconds, y from 0 to the max, chaos events as vertical lines. */
function panel(title: string, values: number[], unit: string, color: string, events: ChaosEvent[], y0: number, width: number, height: number): string {
  const peak = Math.max(0, ...values);
  // An all-zero series (no error at all) is drawn on the floor with a 0..1 scale.
  const max = peak > 0 ? peak : 1;
  const n = Math.max(1, values.length - 1);
  const x = (i: number) => 50 + (i / n) * (width - 70);
  const y = (v: number) => y0 + height - (v / max) * height;
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const marks = events
    .filter((e) => e.kind === 'action' || e.kind === 'fault' || e.kind === 'abort')
    .map((e) => `<line x1="${x(e.t).toFixed(1)}" x2="${x(e.t).toFixed(1)}" y1="${y0}" y2="${y0 + height}" stroke="${e.kind === 'fault' ? '#b45309' : '#dc2626'}" stroke-dasharray="3,3" opacity="0.7"><title>${escape(`${e.t}s ${e.kind} ${e.action ?? ''} ${e.target ?? ''} ${e.detail}`)}</title></line>`)
    .join('');
  return `<text x="50" y="${y0 - 6}" font-size="13" font-weight="bold">${escape(title)}</text>
<text x="44" y="${y0 + 10}" font-size="10" text-anchor="end">${peak === 0 ? '0' : max >= 100 ? max.toFixed(0) : max.toFixed(max >= 1 ? 1 : 3)}${unit}</text>
<text x="44" y="${y0 + height}" font-size="10" text-anchor="end">0</text>
<rect x="50" y="${y0}" width="${width - 70}" height="${height}" fill="none" stroke="#ddd"/>${marks}
<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`;
}

export function renderHtml(report: GamedayReport): string {
  const width = 900;
  const t = report.timeline;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="560" font-family="sans-serif">
${panel('Throughput (operations/s)', t.map((p) => p.requests), '', '#2563eb', report.chaos.events, 30, width, 130)}
${panel('Error rate (failed after retries)', t.map((p) => (p.requests ? p.failed / p.requests : 0)), '', '#dc2626', report.chaos.events, 210, width, 130)}
${panel('p99 latency (ms)', t.map((p) => p.p99), '', '#059669', report.chaos.events, 390, width, 130)}
<text x="50" y="550" font-size="11">seconds 0 to ${t.length}; dashed lines: red = replica/pod action, amber = data-tier fault (hover for details)</text>
</svg>`;
  const rows = (pairs: Array<[string, unknown]>) => pairs.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(String(v))}</td></tr>`).join('');
  const events = report.chaos.events.map((e) => `<tr><td>${e.t}</td><td>${escape(e.kind)}</td><td>${escape(e.action ?? '')}</td><td>${escape(e.target ?? '')}</td><td>${escape(e.detail)}</td><td>${e.recoveryS ?? ''}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gameday ${escape(report.startedAt)}: ${report.verdict}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:960px}th{text-align:left;padding-right:1em}td{padding-right:1em}.pass{color:#059669}.fail{color:#dc2626}table{border-collapse:collapse;margin-bottom:1.5em}</style></head><body>
<h1>Gameday: <span class="${report.verdict}">${report.verdict.toUpperCase()}</span></h1>
<p>${escape(report.mode)} mode, started ${escape(report.startedAt)}, ${report.durationS} s at ${report.targetRps} ops/s target.</p>
${report.reasons.length ? `<ul>${report.reasons.map((r) => `<li class="fail">${escape(r)}</li>`).join('')}</ul>` : ''}
${report.notices.length ? `<ul>${report.notices.map((r) => `<li>${escape(r)}</li>`).join('')}</ul>` : ''}
${svg}
<h2>Numbers</h2><table>${rows([
    ['operations (ok / failed / unavailable)', `${report.requests.total} (${report.requests.ok} / ${report.requests.failed} / ${report.requests.unavailable})`],
    ['HTTP attempts (retries)', `${report.requests.attempts} (${report.requests.retries})`],
    ['success rate (target)', `${(report.slo.successRate * 100).toFixed(3)} % (${(report.slo.target * 100).toFixed(1)} %)`],
    ['latency p50 / p95 / p99 / max', `${report.latencyMs.p50} / ${report.latencyMs.p95} / ${report.latencyMs.p99} / ${report.latencyMs.max} ms`],
    ['checkout acknowledged / persisted / lost', report.checkout.available ? `${report.checkout.acknowledged} / ${report.checkout.persisted} / ${report.checkout.lost}` : 'checkout not deployed'],
    ['duplicate charges', report.checkout.duplicateCharges],
    ['oversold units', report.inventory.oversoldUnits],
    ['stock invariant', report.inventory.invariantOk === null ? 'not checked' : report.inventory.invariantOk ? 'holds' : 'VIOLATED'],
    ['chaos actions / faults / refusals', `${report.chaos.kills} / ${report.chaos.faults} / ${report.chaos.refusals}`],
    ['slowest recovery', `${report.recoveryS.max} s (${report.recoveryS.unrecovered} not recovered)`],
  ])}</table>
<h2>Chaos events</h2><table><tr><th>t (s)</th><th>kind</th><th>action</th><th>target</th><th>detail</th><th>recovery (s)</th></tr>${events}</table>
</body></html>`;
}

/** `  failed: checkout 503×1 (max 27928 ms)` per endpoint with failures: where to look first. */
function failedByEndpoint(report: GamedayReport): string[] {
  type Row = { failed?: number; byStatus?: Record<string, number>; latencyMs?: { max?: number } };
  return Object.entries(report.endpoints as Record<string, Row>)
    .filter(([, e]) => (e.failed ?? 0) > 0)
    .map(([name, e]) => {
      const statuses = Object.entries(e.byStatus ?? {}).filter(([s]) => s === 'error' || s === '429' || Number(s) >= 500).map(([s, n]) => `${s}×${n}`).join(' ');
      return `  failed: ${name} ${statuses} (slowest operation ${e.latencyMs?.max ?? '?'} ms)`;
    });
}

export function summaryText(report: GamedayReport): string {
  return [
    `gameday ${report.verdict.toUpperCase()} (${report.mode}, ${report.durationS} s, target ${report.targetRps} ops/s)`,
    `  operations ${report.requests.total}: ok ${report.requests.ok}, failed ${report.requests.failed}, unavailable ${report.requests.unavailable}; success ${(report.slo.successRate * 100).toFixed(3)} % (target ${(report.slo.target * 100).toFixed(1)} %)`,
    ...failedByEndpoint(report),
    `  latency p50 ${report.latencyMs.p50} ms, p95 ${report.latencyMs.p95} ms, p99 ${report.latencyMs.p99} ms, max ${report.latencyMs.max} ms`,
    `  checkout: ${report.checkout.available ? `acknowledged ${report.checkout.acknowledged}, persisted ${report.checkout.persisted}, lost ${report.checkout.lost}, duplicate charges ${report.checkout.duplicateCharges}, shipped ${report.checkout.shipped} of the acknowledged` : 'NOT DEPLOYED (skipped; lost and duplicate charges are 0 by absence)'}`,
    `  inventory: oversold ${report.inventory.oversoldUnits} units; invariant ${report.inventory.invariantOk === null ? 'not checked' : report.inventory.invariantOk ? 'holds' : 'VIOLATED'}`,
    `  chaos: ${report.chaos.kills} replica actions, ${report.chaos.faults} data-tier faults${report.redis === 'sentinel' ? ' (Redis: primary SIGKILLed, Sentinel failover)' : ''}, slowest recovery ${report.recoveryS.max} s, ${report.recoveryS.unrecovered} not recovered`,
    ...report.reasons.map((r) => `  FAIL: ${r}`),
    ...report.notices.map((n) => `  note: ${n}`),
  ].join('\n');
}
