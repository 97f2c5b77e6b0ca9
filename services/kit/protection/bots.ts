import { LRUCache } from 'lru-cache';
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

/** A configured signature and its lower-case form. */
interface Signature {
  name: string;
  lower: string;
}

const lowered = (signatures: readonly string[]): Signature[] => signatures.map((name) => ({ name, lower: name.toLowerCase() }));

/** First signature contained in `lowerUa` (the user-agent lower-cased), else undefined. */
function matchSignature(lowerUa: string, signatures: readonly Signature[]): string | undefined {
  for (const signature of signatures) if (lowerUa.includes(signature.lower)) return signature.name;
  return undefined;
}

/**
 * Classifies a request by its User-Agent and address only. A crawler's
 * user-agent from outside its published ranges is a forgery, hence a bad bot.
 * Missing browser-only headers (Accept-Language, Sec-Fetch-*) are NOT a signal:
 * storefront servers and apps call this API too.
 */
export function classifyBot(userAgent: string, ip: string, rules: BotRules): BotVerdict {
  return verdictFor(agentClass(userAgent, lowered(rules.badAgents), lowered(rules.goodAgents)), ip, rules.goodCidrs);
}

/** What the user-agent alone says: a bad bot's verdict, a crawler's name (its address still to check), or human. */
type AgentClass = BotVerdict | { crawler: string };

function agentClass(userAgent: string, badAgents: readonly Signature[], goodAgents: readonly Signature[]): AgentClass {
  const ua = userAgent.trim();
  if (ua === '') return { class: 'bad-bot', reason: 'empty-user-agent' };
  const lower = ua.toLowerCase();
  const bad = matchSignature(lower, badAgents);
  if (bad) return { class: 'bad-bot', reason: `signature:${bad}` };
  const good = matchSignature(lower, goodAgents);
  return good ? { crawler: good } : HUMAN;
}

function verdictFor(agent: AgentClass, ip: string, goodCidrs: CidrSet): BotVerdict {
  if (!('crawler' in agent)) return agent;
  if (goodCidrs.has(ip)) return { class: 'good-bot', name: agent.crawler };
  return { class: 'bad-bot', reason: `forged-crawler:${agent.crawler}` };
}

const MEMO_MAX_LENGTH = 512;

/**
 * `classifyBot` for one set of rules, for every request of a process: the
 * signatures are lower-cased once, and what a user-agent string says is
 * remembered for the most recent `memo` distinct strings (a shop sees few
 * distinct ones; a scanner rotating random ones only costs the scan). The
 * address check of crawlers runs per request.
 */
export function createBotClassifier(rules: BotRules, memo = 1_000): (userAgent: string, ip: string) => BotVerdict {
  const badAgents = lowered(rules.badAgents);
  const goodAgents = lowered(rules.goodAgents);
  const seen = new LRUCache<string, AgentClass>({ max: memo });
  return function classify(userAgent: string, ip: string): BotVerdict {
    // Long strings are classified but not kept: the memo stays small whatever clients send.
    if (userAgent.length > MEMO_MAX_LENGTH) return verdictFor(agentClass(userAgent, badAgents, goodAgents), ip, rules.goodCidrs);
    let agent = seen.get(userAgent);
    if (agent === undefined) {
      agent = agentClass(userAgent, badAgents, goodAgents);
      seen.set(userAgent, agent);
    }
    return verdictFor(agent, ip, rules.goodCidrs);
  };
}
