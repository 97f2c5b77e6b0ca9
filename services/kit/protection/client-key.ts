import { BlockList, isIP } from 'node:net';
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { isCustomerTokenForm, verifyCustomerToken } from '../customer-token.js';

/**
 * A set of CIDR ranges (`10.0.0.0/8`, `::1`, `2001:db8::/32`) matched with
 * Node's BlockList; IPv4-mapped IPv6 peers (`::ffff:1.2.3.4`) match their
 * IPv4 ranges.
 */
export class CidrSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = '', bits] = cidr.split('/');
      const family = isIP(address);
      if (family === 0) throw new Error(`not an IP range: ${cidr}`);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(bits), type);
    }
    this.size = cidrs.length;
  }

  has(ip: string): boolean {
    if (this.size === 0 || !ip) return false;
    const plain = unmap(ip);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
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
  const chain = forwardedFor.split(',').map((entry) => entry.trim());
  for (let hop = 0; hop < options.hops && chain.length > 0; hop += 1) {
    const candidate = unmap(chain.pop() ?? '');
    if (isIP(candidate) === 0) return ip;
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
  const authorization = ctx.get('authorization');
  if (customerKey && authorization.startsWith('Bearer ') && isCustomerTokenForm(authorization.slice(7).trim())) {
    const customerId = verifyCustomerToken(customerKey, authorization.slice(7).trim(), nowMs);
    if (customerId) return `cust:${customerId}`;
  }
  const cartToken = ctx.get('x-cart-token');
  if (CART_TOKEN.test(cartToken)) return `cart:${sha(cartToken)}`;
  return `ip:${ip}`;
}
