/** Command-line options of `npm run load`. */
import { parseArgs } from 'node:util';
import { assertLoopback } from '../chaos/options.js';
import { parseDuration } from '../chaos/plan.js';
import { DEFAULT_MIX, SESSION_KINDS, type Mix } from './shopper.js';

export const LOAD_HELP = `npm run load -- [options]

Shopper sessions against the platform (open model: arrivals do not slow down when the server does).

  --base-url URL        default http://127.0.0.1:8080 (+ STACK_PORT_OFFSET); loopback only
  --rps N               target operations per second           --multiplier X   X times --baseline-rps (default 20)
  --duration 60s        stop starting sessions after this (max 1h)
  --max-requests N      stop after this many HTTP attempts (default 1000000)
  --max-sessions N      live sessions cap; arrivals beyond it are dropped and counted (default 2000)
  --think 300ms         mean think time between a shopper's clicks (exponential)
  --mix K=W,...         session weights: browse, cart, checkout, support (default ${SESSION_KINDS.map((k) => `${k}=${DEFAULT_MIX[k]}`).join(',')})
  --seed N              seed N demo products when the catalog is empty (default 2000; 0 = fail instead)
  --out FILE            write the results as JSON (default reports/load/<timestamp>.json)
  -h, --help`;

export interface LoadCli {
  baseUrl: string;
  rps: number;
  durationMs: number;
  maxRequests: number;
  maxSessions: number;
  thinkMs: number;
  mix: Mix;
  seed: number;
  out?: string;
}

export function parseMix(text: string): Mix {
  const mix: Mix = { browse: 0, cart: 0, checkout: 0, support: 0 };
  for (const part of text.split(',')) {
    const [kind, weight] = part.split('=');
    if (!kind || !(SESSION_KINDS as readonly string[]).includes(kind) || weight === undefined || !(Number(weight) >= 0)) throw new Error(`--mix "${part}": use kind=weight with kind one of ${SESSION_KINDS.join(', ')}`);
    mix[kind as keyof Mix] = Number(weight);
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error('--mix needs at least one positive weight');
  return mix;
}

function positive(text: string, what: string, max: number): number {
  const value = Number(text);
  if (!(value > 0 && value <= max)) throw new Error(`${what} must be a number above 0 and at most ${max}`);
  return value;
}

export function parseLoadArgs(argv: string[], defaultBaseUrl: string): LoadCli | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      'base-url': { type: 'string', default: defaultBaseUrl },
      rps: { type: 'string' },
      multiplier: { type: 'string' },
      'baseline-rps': { type: 'string', default: '20' },
      duration: { type: 'string', default: '60s' },
      'max-requests': { type: 'string', default: '1000000' },
      'max-sessions': { type: 'string', default: '2000' },
      think: { type: 'string', default: '300ms' },
      mix: { type: 'string' },
      seed: { type: 'string', default: '2000' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.rps && values.multiplier) throw new Error('give --rps or --multiplier, not both');
  const baseline = positive(values['baseline-rps'], '--baseline-rps', 10_000);
  const rps = values.rps ? positive(values.rps, '--rps', 10_000) : baseline * (values.multiplier ? positive(values.multiplier, '--multiplier', 100) : 1);
  const baseUrl = values['base-url'].replace(/\/+$/, '');
  assertLoopback(baseUrl, '--base-url');
  const durationMs = parseDuration(values.duration, '--duration');
  if (durationMs <= 0 || durationMs > 3_600_000) throw new Error('--duration must be above 0 and at most 1h');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 10_000) throw new Error('--seed must be an integer from 0 to 10000');
  return {
    baseUrl,
    rps,
    durationMs,
    maxRequests: Math.floor(positive(values['max-requests'], '--max-requests', 100_000_000)),
    maxSessions: Math.floor(positive(values['max-sessions'], '--max-sessions', 100_000)),
    thinkMs: parseDuration(values.think, '--think'),
    mix: values.mix ? parseMix(values.mix) : DEFAULT_MIX,
    seed,
    out: values.out,
  };
}
