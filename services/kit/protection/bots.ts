import type { CidrSet } from './client-key.js';

export type BotClass = 'good-bot' | 'bad-bot' | 'human';

export interface BotVerdict {
  class: BotClass;
  /** Why: the matched signature, `empty-user-agent`, `forged-crawler`... */
  reason?: string;
  /** For good bots: the crawler's name, which keys its rate budget. */
  name?: string;
}

export interface BotRules {
  goodAgents: readonly string[];
  goodCidrs: CidrSet;
  badAgents: readonly string[];
}

const HUMAN: BotVerdict = { class: 'human' };

/** First signature contained in `ua` (case-insensitive), else undefined. */
function matchSignature(lowerUa: string, signatures: readonly string[]): string | undefined {
  for (const signature of signatures) if (lowerUa.includes(signature.toLowerCase())) return signature;
  return undefined;
}

/**
 * Classifies a request by its User-Agent and address only. A crawler's
 * user-agent from outside its published ranges is a forgery, hence a bad bot.
 * Missing browser-only headers (Accept-Language, Sec-Fetch-*) are NOT a signal:
 * storefront servers and apps call this API too.
 */
export function classifyBot(userAgent: string, ip: string, rules: BotRules): BotVerdict {
  const ua = userAgent.trim();
  if (ua === '') return { class: 'bad-bot', reason: 'empty-user-agent' };
  const lower = ua.toLowerCase();
  const bad = matchSignature(lower, rules.badAgents);
  if (bad) return { class: 'bad-bot', reason: `signature:${bad}` };
  const good = matchSignature(lower, rules.goodAgents);
  if (!good) return HUMAN;
  if (rules.goodCidrs.has(ip)) return { class: 'good-bot', name: good };
  return { class: 'bad-bot', reason: `forged-crawler:${good}` };
}
