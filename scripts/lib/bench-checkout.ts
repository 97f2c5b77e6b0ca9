/**
 * Checkout benchmark: requests/s and latency of `POST /api/checkout` for a
 * 3-line cart, each request with a fresh cart and a fresh Idempotency-Key.
 * Carts (3 lines each) are filled first (not measured); a run that outlasts
 * the pool meets empty carts, which count as errors (422).
 * Then the fulfillment worker's rate: completed jobs over the span from the
 * first job's start to the last one's end (Bull's timestamps).
 */
import autocannon from 'autocannon';
import Bull from 'bull';
import { createCarts } from './bench-cart.js';

export interface BenchCheckoutOptions {
  cartUrl: string;
  checkoutUrl: string;
  productIds: string[];
  durationS: number;
  connections: number;
  carts: number;
}

export interface BenchCheckoutResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

let keySeq = 0;

export async function benchCheckout(opts: BenchCheckoutOptions): Promise<BenchCheckoutResult> {
  const tokens = await createCarts(opts.cartUrl, opts.carts, opts.productIds);
  const body = JSON.stringify({ email: 'bench@example.com', shippingAddress: { name: 'Bench', line1: '1 Load Street', city: 'Berlin', postalCode: '10115', country: 'DE' } });
  let next = 0;
  const result = await autocannon({
    url: opts.checkoutUrl,
    connections: opts.connections,
    duration: opts.durationS,
    requests: [
      {
        method: 'POST',
        path: '/api/checkout',
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'content-type': 'application/json', 'x-cart-token': tokens[next++ % tokens.length], 'idempotency-key': `bench-${process.pid}-${keySeq++}` },
          body,
        }),
      },
    ],
  });
  return { rps: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: result.requests.total, errors: result.errors + result.timeouts + result.non2xx };
}

/** Waits (bounded) until `expected` jobs have completed, then answers jobs/s from Bull's start and end times. */
export async function benchWorker(opts: { redisUrl: string; prefix: string; expected: number; timeoutS: number }): Promise<{ jobs: number; failed: number; jobsPerS: number; seconds: number }> {
  const queue = new Bull('fulfillment', opts.redisUrl, { prefix: opts.prefix });
  try {
    for (let i = 0; i < opts.timeoutS * 2; i += 1) {
      const counts = await queue.getJobCounts();
      if (counts.completed + counts.failed >= opts.expected) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const done = await queue.getCompleted(0, -1);
    const failed = (await queue.getJobCounts()).failed;
    const start = Math.min(...done.map((job) => job.processedOn ?? Infinity));
    const end = Math.max(...done.map((job) => job.finishedOn ?? 0));
    const seconds = Math.max(0.001, (end - start) / 1_000);
    return { jobs: done.length, failed, jobsPerS: done.length > 0 ? Math.round(done.length / seconds) : 0, seconds: Number(seconds.toFixed(2)) };
  } finally {
    await queue.close();
  }
}
