/**
 * The decisions of a chaos run as pure functions, the same for Kubernetes pods
 * and local replicas: which targets are eligible, how many of a workload may be
 * down at once (blast radius), whether a target opted out, when to abort.
 */

/** A pod, or a local replica dressed as one. */
export interface Target {
  /** Pod name, or `<service>-<index>` locally. */
  name: string;
  namespace: string;
  /** Deployment (or service) it belongs to: the unit the blast radius is about. */
  workload: string;
  /** Changes when the pod/process is replaced (pod uid, or pid locally). */
  uid: string;
  labels: Record<string, string>;
  ready: boolean;
  /** Being deleted already (deletionTimestamp), or not running. */
  terminating: boolean;
}

/** Never more than `maxDown` and never more than `maxDownPercent` % of a workload's pods down at once. */
export interface BlastRadius {
  maxDown?: number;
  maxDownPercent?: number;
}

export interface SelectOptions {
  /** Equality-based label selector, e.g. `app=cart,tier=web` (empty: every target). */
  selector?: Record<string, string>;
  /** `key=value`: targets carrying it are never touched. */
  optOut?: { key: string; value: string };
  /** How many targets per round. */
  count: number;
  radius: BlastRadius;
}

export interface Skipped {
  name: string;
  reason: 'opted-out' | 'not-selected' | 'not-ready' | 'blast-radius';
}

/** Parses `a=b,c=d` into a map; throws on anything else (set-based selectors are not supported). */
export function parseSelector(text: string | undefined): Record<string, string> {
  if (!text) return {};
  const result: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9./_-]+)==?([A-Za-z0-9._-]*)$/.exec(part);
    if (!match) throw new Error(`invalid label selector part "${part}": use key=value[,key=value]`);
    result[match[1]!] = match[2]!;
  }
  return result;
}

export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

export function isOptedOut(target: Target, optOut: SelectOptions['optOut']): boolean {
  return optOut !== undefined && target.labels[optOut.key] === optOut.value;
}

/** How many of `total` pods may be down at once. A percentage rounds down, so 50 % of 1 pod is 0: nothing is killed. */
export function allowedDown(total: number, radius: BlastRadius): number {
  let allowed = total;
  if (radius.maxDown !== undefined) allowed = Math.min(allowed, radius.maxDown);
  if (radius.maxDownPercent !== undefined) allowed = Math.min(allowed, Math.floor((total * radius.maxDownPercent) / 100));
  return Math.max(0, allowed);
}

/**
 * Picks up to `count` targets at random among the selected, ready, not
 * opted-out ones, so that no workload has more than its allowed number down
 * (pods already not ready count as down). Returns the picks and why others were skipped.
 */
export function selectTargets(targets: Target[], options: SelectOptions, random: () => number = Math.random): { chosen: Target[]; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const totals = new Map<string, number>();
  const down = new Map<string, number>();
  const eligible: Target[] = [];
  for (const target of targets) {
    if (!matchesSelector(target.labels, options.selector ?? {})) {
      skipped.push({ name: target.name, reason: 'not-selected' });
      continue;
    }
    totals.set(target.workload, (totals.get(target.workload) ?? 0) + 1);
    const isDown = !target.ready || target.terminating;
    if (isDown) down.set(target.workload, (down.get(target.workload) ?? 0) + 1);
    if (isOptedOut(target, options.optOut)) skipped.push({ name: target.name, reason: 'opted-out' });
    else if (isDown) skipped.push({ name: target.name, reason: 'not-ready' });
    else eligible.push(target);
  }
  // Fisher-Yates with the injected random source, so tests are deterministic.
  for (let i = eligible.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
  }
  const chosen: Target[] = [];
  for (const target of eligible) {
    const current = down.get(target.workload) ?? 0;
    if (chosen.length >= options.count || current + 1 > allowedDown(totals.get(target.workload) ?? 0, options.radius)) {
      skipped.push({ name: target.name, reason: 'blast-radius' });
      continue;
    }
    down.set(target.workload, current + 1);
    chosen.push(target);
  }
  return { chosen, skipped };
}

/** Interval with ± jitter (a fraction of it), never below 0. */
export function nextDelay(intervalMs: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(intervalMs * (1 + jitter * (2 * random() - 1))));
}

export interface AbortRule {
  /** Abort when the probe's success rate over the window is below this (0..1). */
  threshold: number;
  windowMs: number;
  /** Fewer samples in the window than this: no decision yet. */
  minSamples: number;
}

/** Probe results in a sliding window; pure apart from the array it keeps. */
export class ProbeWindow {
  private samples: Array<{ at: number; ok: boolean }> = [];

  record(at: number, ok: boolean): void {
    this.samples.push({ at, ok });
  }

  /** Success rate and sample count within `windowMs` before `now`. */
  rate(now: number, windowMs: number): { rate: number; samples: number } {
    this.samples = this.samples.filter((s) => s.at > now - windowMs);
    const ok = this.samples.filter((s) => s.ok).length;
    return { rate: this.samples.length === 0 ? 1 : ok / this.samples.length, samples: this.samples.length };
  }
}

/** The reason to abort, or undefined to go on. */
export function shouldAbort(window: { rate: number; samples: number }, rule: AbortRule): string | undefined {
  if (window.samples < rule.minSamples) return undefined;
  if (window.rate >= rule.threshold) return undefined;
  return `probe success ${(window.rate * 100).toFixed(1)} % < ${(rule.threshold * 100).toFixed(1)} % over ${window.samples} samples`;
}

/** `30s`, `2m`, `500ms`, or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`invalid ${what} "${text}": use e.g. 500ms, 30s, 2m`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000);
}

/** `2` (pods) or `50%` into a blast radius. */
export function parseRadius(text: string): BlastRadius {
  const match = /^(\d+)(%)?$/.exec(text.trim());
  if (!match) throw new Error(`invalid --max-down "${text}": use a count (1) or a percentage (50%)`);
  return match[2] ? { maxDownPercent: Number(match[1]) } : { maxDown: Number(match[1]) };
}
