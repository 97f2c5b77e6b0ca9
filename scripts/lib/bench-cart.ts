/**
 * Add-to-cart benchmark: requests/s and latency of `POST /api/cart/cart/lines`
 * on fresh carts. Carts are created first (not measured); during the run each
 * request takes the next unused cart, so every request adds a line to a fresh
 * cart. If the run outlasts the pool, carts are reused (the line's quantity grows).
 */
import autocannon from 'autocannon';

export interface BenchCartOptions {
  baseUrl: string;
  productId: string;
  durationS: number;
  connections: number;
}

export interface BenchCartResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

/** `count` fresh guest carts (16 at a time), each holding one unit of every product in `productIds`. */
export async function createCarts(baseUrl: string, count: number, productIds: readonly string[] = []): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next++ < count) {
      const response = await fetch(`${baseUrl}/api/cart/carts`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      if (response.status !== 201) throw new Error(`creating a cart failed: ${response.status} ${(await response.text()).slice(0, 200)}`);
      const { token } = (await response.json()) as { token: string };
      for (const productId of productIds) {
        const added = await fetch(`${baseUrl}/api/cart/cart/lines`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cart-token': token }, body: JSON.stringify({ productId, quantity: 1 }), signal: AbortSignal.timeout(10_000) });
        if (added.status !== 201) throw new Error(`adding a line failed: ${added.status} ${(await added.text()).slice(0, 200)}`);
      }
      tokens.push(token);
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker));
  return tokens;
}

export async function benchAddToCart(opts: BenchCartOptions): Promise<BenchCartResult> {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  // Enough fresh carts for a few hundred adds per second; bounded so setup stays short.
  const tokens = await createCarts(baseUrl, Math.min(20_000, Math.max(500, opts.durationS * 300)));
  const body = JSON.stringify({ productId: opts.productId, quantity: 1 });
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: opts.connections,
    duration: opts.durationS,
    requests: [
      {
        method: 'POST',
        path: '/api/cart/cart/lines',
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'content-type': 'application/json', 'x-cart-token': tokens[next++ % tokens.length] },
          body,
        }),
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}
