/**
 * One fulfillment job: order → fulfilling, book the carrier, record the
 * shipment, order → shipped. Each step is idempotent (status moves are
 * no-ops when already done, the carrier booking is keyed by order id, the
 * shipment's `_id` is the order id), so a retried or stalled-and-rerun job
 * ships the order once.
 */
import { createHash } from 'node:crypto';
import { AppError, sleep, type HttpClient, type Logger } from '../../kit/index.js';
import type { FulfillmentModels, ShipmentDoc } from '../models.js';

/** A carrier API: books a shipment for an order, idempotent by order id. */
export interface Carrier {
  book(orderId: string): Promise<string>;
}

export function createSimulatedCarrier(options: { latencyMs: number; failureRate: number; random?: () => number }): Carrier {
  const random = options.random ?? Math.random;
  return {
    async book(orderId) {
      await sleep(options.latencyMs);
      if (random() < options.failureRate) throw new Error('carrier API failed (simulated)');
      return `cr_${createHash('sha256').update(orderId).digest('hex').slice(0, 16)}`;
    },
  };
}

export interface FulfilDeps {
  models: FulfillmentModels;
  checkout: HttpClient;
  internalToken: string;
  carrier: Carrier;
  logger: Logger;
  now: () => number;
}

export type FulfilOutcome = 'shipped' | 'skipped';

/** Runs the job for `orderId`; throws to have Bull retry it (backoff, then dead letter). */
export async function fulfil(deps: FulfilDeps, orderId: string): Promise<FulfilOutcome> {
  if ((await mark(deps, orderId, 'fulfilling')) === 'refused') {
    // Cancelled (or never paid): nothing to ship.
    deps.logger.info({ orderId }, 'order not shippable; job skipped');
    return 'skipped';
  }
  const existing = await deps.models.Shipment.findById(orderId).lean<ShipmentDoc>();
  if (!existing) {
    const carrierRef = await deps.carrier.book(orderId);
    try {
      await deps.models.Shipment.create({ _id: orderId, status: 'shipped', shippedAt: new Date(deps.now()), carrierRef });
    } catch (error) {
      // A stalled copy of this job got there first: one shipment either way.
      if ((error as { code?: number }).code !== 11000) throw error;
    }
  }
  await mark(deps, orderId, 'shipped');
  return 'shipped';
}

async function mark(deps: FulfilDeps, orderId: string, status: 'fulfilling' | 'shipped'): Promise<'ok' | 'refused'> {
  const response = await deps.checkout.call({
    method: 'POST', path: `/api/orders/${encodeURIComponent(orderId)}/fulfillment`, body: { status }, idempotent: true,
    headers: { authorization: `Bearer ${deps.internalToken}` },
  });
  if (response.status === 200) return 'ok';
  if (response.status === 409) return 'refused';
  throw new AppError(502, 'checkout_error', 'Bad gateway', { detail: `checkout answered ${response.status} for ${orderId}` });
}
