import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../clock.js';

/** One request the edge refused: 403 (bot, route, behaviour), 429 (limit) or 503 (shed). */
export interface Refusal {
  decision: string;
  reason: string;
  routeClass: string;
  botClass: string;
  ip: string;
  method: string;
  path: string;
}

export interface RefusalLog {
  /** Logs the refusal at once when it is the first of its kind in the window, else counts it for the window's summary. */
  record(refusal: Refusal): void;
  /** Writes the summaries of the open windows now (shutdown, tests). */
  flush(): void;
}

export interface RefusalLogOptions {
  /** Length of a window, 1 s by default. */
  windowMs?: number;
  clock?: Clock;
  /** Distinct addresses counted per summary; the rest are counted together. */
  maxAddresses?: number;
}

interface Window {
  since: number;
  first: Refusal;
  /** Refusals of this kind in the window, the first (logged at once) included. */
  count: number;
  addresses: Map<string, number>;
  otherAddresses: number;
}

const MESSAGES: Record<string, string> = { limited: 'edge rate-limited request', shed: 'edge shed request' };
const messageOf = (decision: string) => MESSAGES[decision] ?? 'edge blocked request';

/**
 * Log lines for refused requests, aggregated (docs/edge-protection.md, "Logs"):
 * the first refusal of a kind (decision, reason, route class, bot class) in a
 * window is logged at once with its address and path; when more follow in the
 * same window, one `edge refusals repeated` line at its end gives their count
 * (the first included) and the busiest addresses. A flood of 1,000 blocked requests
 * a second thus writes a few lines a second, not 1,000; every refusal is still
 * counted in `edge_requests_total` by the caller.
 */
export function createRefusalLog(logger: Logger, options: RefusalLogOptions = {}): RefusalLog {
  const windowMs = options.windowMs ?? 1_000;
  const clock = options.clock ?? systemClock;
  const maxAddresses = options.maxAddresses ?? 100;
  const open = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;

  function summarize(window: Window): void {
    if (window.count === 1) return;
    const { decision, reason, routeClass, botClass } = window.first;
    const addresses = [...window.addresses].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([ip, count]) => ({ ip, count }));
    const entry = { decision, reason, routeClass, botClass, count: window.count, windowMs, addresses, distinctAddresses: window.addresses.size, otherAddresses: window.otherAddresses };
    if (decision === 'limited') logger.info(entry, 'edge refusals repeated');
    else logger.warn(entry, 'edge refusals repeated');
  }

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    for (const window of open.values()) summarize(window);
    open.clear();
  }

  function record(refusal: Refusal): void {
    const key = `${refusal.decision}|${refusal.reason}|${refusal.routeClass}|${refusal.botClass}`;
    const now = clock.now();
    const window = open.get(key);
    if (window && now - window.since < windowMs) {
      window.count += 1;
      const seen = window.addresses.get(refusal.ip);
      if (seen !== undefined) window.addresses.set(refusal.ip, seen + 1);
      else if (window.addresses.size < maxAddresses) window.addresses.set(refusal.ip, 1);
      else window.otherAddresses += 1;
      return;
    }
    if (window) summarize(window);
    open.set(key, { since: now, first: refusal, count: 1, addresses: new Map([[refusal.ip, 1]]), otherAddresses: 0 });
    const entry = { reason: refusal.reason, decision: refusal.decision, botClass: refusal.botClass, routeClass: refusal.routeClass, ip: refusal.ip, method: refusal.method, path: refusal.path };
    if (refusal.decision === 'limited') logger.info(entry, messageOf(refusal.decision));
    else logger.warn(entry, messageOf(refusal.decision));
    // One timer while windows are open, none when idle; it never keeps the process alive.
    timer ??= setTimeout(flush, windowMs).unref();
  }

  return { record, flush };
}
