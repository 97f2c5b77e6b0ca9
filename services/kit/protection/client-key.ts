import { BlockList, isIP } from 'node:net';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Context } from 'koa';
import { isCustomerTokenForm, verifyCustomerToken } from '../customer-token.js';

/** `1.2.3.4` -> its 32-bit value; -1 when `ip` is not a dotted-quad IPv4 address. */
export function ipv4Value(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i += 1) {
    const code = ip.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (code >= 48 && code <= 57) {
      // No leading zeros (`010` is octal to some parsers): Node's isIP refuses them too.
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (code - 48);
      digits += 1;
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/**
 * A set of CIDR ranges (`10.0.0.0/8`, `::1`, `2001:db8::/32`); IPv4-mapped
 * IPv6 peers (`::ffff:1.2.3.4`) match their IPv4 ranges. It is asked two or
 * three times per request (trusted proxy, exempt, crawler range): IPv4 ranges
 * are compared as integers, IPv6 ones go to Node's BlockList, whose answers are
 * remembered for recent addresses (it builds a native address object per call).
 */
export class CidrSet {
  private readonly list = new BlockList();
  /** IPv4 ranges as [first, last] 32-bit values. */
  private readonly v4: Array<[number, number]> = [];
  private readonly v6Count: number;
  private readonly v6Seen = new LRUCache<string, boolean>({ max: 2_048 });
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    let v6Count = 0;
    for (const cidr of cidrs) {
      const [address = '', bits] = cidr.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`not an IP range: ${cidr}`);
      if (family === 4) {
        const prefix = bits === undefined ? 32 : Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`not an IP range: ${cidr}`);
        const size = 2 ** (32 - prefix);
        const first = ipv4Value(address) - (ipv4Value(address) % size);
        this.v4.push([first, first + size - 1]);
        continue;
      }
      v6Count += 1;
      if (bits === undefined) this.list.addAddress(address, 'ipv6');
      else this.list.addSubnet(address, Number(bits), 'ipv6');
    }
    this.v6Count = v6Count;
    this.size = cidrs.length;
  }

  has(ip: string): boolean {
    if (this.size === 0 || !ip) return false;
    const plain = unmap(ip);
    const value = ipv4Value(plain);
    if (value >= 0) {
      for (const [first, last] of this.v4) if (value >= first && value <= last) return true;
      return false;
    }
    if (this.v6Count === 0) return false;
    const known = this.v6Seen.get(plain);
    if (known !== undefined) return known;
    const found = isIP(plain) === 6 && this.list.check(plain, 'ipv6');
    this.v6Seen.set(plain, found);
    return found;
  }
}

/** `::ffff:1.2.3.4` -> `1.2.3.4`: a dual-stack socket reports IPv4 peers that way. */
function unmap(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export interface ClientIpOptions {
  trustedProxies: CidrSet;
  /** Most trusted proxies walked back through X-Forwarded-For. */
  hops: number;
}

/**
 * The address of the real client. X-Forwarded-For is read only when the direct
 * peer is a trusted proxy, and then from the right: each trusted proxy appends
 * the address it saw, so the first untrusted entry from the right is the client.
 * Entries a client wrote itself sit further left and are never reached.
 */
export function resolveClientIp(peer: string, forwardedFor: string | undefined, options: ClientIpOptions): string {
  let ip = unmap(peer);
  if (!forwardedFor || options.hops === 0 || !options.trustedProxies.has(ip)) return ip;
  // Walked from the right without splitting the whole header: a client may send a long one.
  let end = forwardedFor.length;
  for (let hop = 0; hop < options.hops && end >= 0; hop += 1) {
    const comma = forwardedFor.lastIndexOf(',', end - 1);
    const candidate = unmap(forwardedFor.slice(comma + 1, end).trim());
    end = comma;
    if (ipv4Value(candidate) < 0 && isIP(candidate) !== 6) return ip;
    ip = candidate;
    if (!options.trustedProxies.has(ip)) return ip;
  }
  return ip;
}

/** The client address the edge protection resolved for this request (peer address before it ran). */
export function clientIp(ctx: Context): string {
  return typeof ctx.state.clientIp === 'string' ? ctx.state.clientIp : unmap(ctx.req.socket.remoteAddress ?? '');
}

/** The key rate limits count under; set by the edge protection, else derived from the address. */
export function clientKey(ctx: Context): string {
  return typeof ctx.state.clientKey === 'string' ? ctx.state.clientKey : `ip:${clientIp(ctx)}`;
}

const CART_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const sha = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * The client key: the customer id of a valid customer token, else a hash of the
 * cart token, else the client address. Verified ids cannot be minted by a
 * client; cart tokens can, which is why cart-token keys also count per address
 * (see rate-limit.ts).
 */
export function deriveClientKey(ctx: Context, ip: string, customerKey: Buffer | undefined, nowMs: number): string {
  // Straight from the parsed headers: this runs on every guarded request.
  const headers = ctx.req.headers;
  const authorization = headers.authorization;
  if (customerKey && authorization?.startsWith('Bearer ') && isCustomerTokenForm(authorization.slice(7).trim())) {
    const customerId = verifyCustomerToken(customerKey, authorization.slice(7).trim(), nowMs);
    if (customerId) return `cust:${customerId}`;
  }
  const cartToken = headers['x-cart-token'];
  if (typeof cartToken === 'string' && CART_TOKEN.test(cartToken)) return `cart:${sha(cartToken)}`;
  return `ip:${ip}`;
}
