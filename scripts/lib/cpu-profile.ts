/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went:
 * self time per area (an npm package, a Node.js built-in module, a file of
 * ours, or V8's own `(garbage collector)` / `(program)`) and per function.
 * Used by `npm run bench` with BENCH_CPU_PROFILE=1 and by `npm run profile:summary`.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface Share {
  name: string;
  /** Share of the busy (non-idle) samples, 0-1. */
  share: number;
}
export interface ProfileSummary {
  busyMs: number;
  idleShare: number;
  areas: Share[];
  functions: Share[];
}

/** The area a frame belongs to: `koa`, `@koa/router`, `node:http`, `services/kit/log.ts`, `(garbage collector)`. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const [first, second] = url.slice(inModules + 'node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? url);
  }
  if (url.startsWith('node:')) return url;
  const ours = url.match(/\/(services|scripts)\/.*$/);
  return ours ? ours[0].slice(1) : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const time = new Map<number, number>();
  // Sample timing when present (exact), else hit counts.
  if (profile.samples && profile.timeDeltas) {
    profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
  } else {
    for (const node of profile.nodes) time.set(node.id, node.hitCount ?? 0);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, t] of time) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += t;
      continue;
    }
    busy += t;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + t);
    const fn = `${functionName || '(anonymous)'} ${area}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + t);
  }
  const ranked = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, t]) => ({ name, share: busy ? t / busy : 0 }));
  const unit = profile.samples && profile.timeDeltas ? 1 / 1_000 : 1;
  return { busyMs: Math.round(busy * unit), idleShare: busy + idle ? idle / (busy + idle) : 0, areas: ranked(areas), functions: ranked(functions) };
}

export function summarizeProfileFile(file: string, top?: number): ProfileSummary {
  return summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, top);
}

export function formatSummary(title: string, summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`;
  return [
    `${title}: ${summary.busyMs} ms on CPU (idle ${(summary.idleShare * 100).toFixed(0)} % of the profile)`,
    '  self time by area:',
    ...summary.areas.map((a) => `    ${pct(a.share)}  ${a.name}`),
    '  self time by function:',
    ...summary.functions.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
