/**
 * The payment adapter checkout talks to, and a simulated provider behind it.
 * Every call is keyed by order id, so a retried charge never charges twice.
 * The simulated provider keeps two ledgers: `payment_charges` (one document per
 * order, `_id = ch_<orderId>`: the charge's current status, what `lookup` reads)
 * and `payment_captures` (one document per capture it performed, with an id of its
 * own). The second is the proof the tests and the gameday count: a double capture
 * shows there as two documents for one order, where the first ledger could never
 * show it.
 */
import { randomUUID } from 'node:crypto';
import { AppError, sleep, withTimeout } from '../../kit/index.js';
import type { CheckoutModels, PaymentChargeDoc } from '../models.js';

export type ChargeOutcome = { status: 'captured'; chargeId: string } | { status: 'declined'; chargeId: string; reason: string };

/** The provider did not answer in time: the charge may or may not have happened (ask with `lookup`). */
export class PaymentTimeoutError extends Error {
  override name = 'PaymentTimeoutError';
}

/** The provider refused the call before doing anything (outage): nothing was charged. */
export class PaymentUnavailableError extends Error {
  override name = 'PaymentUnavailableError';
}

export interface PaymentAdapter {
  /** Captures `amount` for `orderId`, or answers the outcome of an earlier charge of that order. */
  charge(input: { orderId: string; amount: number; currency: string }): Promise<ChargeOutcome>;
  /** The charge of `orderId` as the provider knows it, or null when it never charged. */
  lookup(orderId: string): Promise<{ chargeId: string; status: PaymentChargeDoc['status'] } | null>;
  /** Refunds a captured charge, or voids the order so a late charge cannot happen; idempotent. */
  refundOrVoid(orderId: string): Promise<void>;
}

/** The simulated provider's behaviour, read on every call (an admin endpoint flips `outage` at runtime). */
export interface PaymentKnobs {
  latencyMs: number;
  /** Share of charges declined (0..1). */
  declineRate: number;
  /** Share of charges whose answer never comes (0..1); half of them captured anyway. */
  timeoutRate: number;
  outage: boolean;
}

export interface SimulatedProviderOptions {
  models: Pick<CheckoutModels, 'PaymentCharge' | 'PaymentCapture'>;
  knobs: PaymentKnobs;
  /** The adapter's deadline per call. */
  timeoutMs: number;
  random?: () => number;
  now?: () => number;
}

const chargeIdOf = (orderId: string) => `ch_${orderId}`;

/**
 * A provider with configurable latency, declines, timeouts (half of them after
 * capturing, the worst case) and an outage switch. Idempotent by order id.
 */
export function createSimulatedProvider(options: SimulatedProviderOptions): PaymentAdapter {
  const { PaymentCharge, PaymentCapture } = options.models;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  async function record(orderId: string, amount: number, currency: string, status: PaymentChargeDoc['status']): Promise<PaymentChargeDoc> {
    const at = new Date(now());
    try {
      const created = (await PaymentCharge.create({ _id: chargeIdOf(orderId), orderId, amount, currency, status, createdAt: at, updatedAt: at })).toObject();
      // Money moved: one capture event (a deduplicated call below writes none).
      if (status === 'captured') await PaymentCapture.create({ _id: `cap_${randomUUID()}`, orderId, chargeId: created._id, amount, currency, at });
      return created;
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      // The order was charged (or voided) before: its first outcome stands.
      const existing = await PaymentCharge.findById(chargeIdOf(orderId)).lean<PaymentChargeDoc>();
      if (!existing) throw error;
      return existing;
    }
  }

  async function charge(orderId: string, amount: number, currency: string): Promise<ChargeOutcome> {
    const { knobs } = options;
    if (knobs.outage) throw new PaymentUnavailableError('payment provider is unavailable');
    await sleep(knobs.latencyMs);
    const timesOut = random() < knobs.timeoutRate;
    const declines = !timesOut && random() < knobs.declineRate;
    if (timesOut && random() < 0.5) throw new PaymentTimeoutError('payment provider timed out');
    const doc = await record(orderId, amount, currency, declines ? 'declined' : 'captured');
    if (timesOut) {
      // Captured, but the answer never reaches us.
      await sleep(options.timeoutMs);
      throw new PaymentTimeoutError('payment provider timed out');
    }
    if (doc.status === 'captured' || doc.status === 'refunded') return { status: 'captured', chargeId: doc._id };
    return { status: 'declined', chargeId: doc._id, reason: doc.status === 'voided' ? 'voided' : 'card_declined' };
  }

  return {
    async charge(input) {
      return withTimeout(charge(input.orderId, input.amount, input.currency), options.timeoutMs, 'payment').catch((error: unknown) => {
        if (error instanceof PaymentUnavailableError || error instanceof PaymentTimeoutError) throw error;
        if (error instanceof Error && error.message.includes('timed out')) throw new PaymentTimeoutError(error.message);
        throw error;
      });
    },
    async lookup(orderId) {
      if (options.knobs.outage) throw new PaymentUnavailableError('payment provider is unavailable');
      const doc = await PaymentCharge.findById(chargeIdOf(orderId)).lean<PaymentChargeDoc>();
      return doc ? { chargeId: doc._id, status: doc.status } : null;
    },
    async refundOrVoid(orderId) {
      if (options.knobs.outage) throw new PaymentUnavailableError('payment provider is unavailable');
      const existing = await record(orderId, 0, 'XXX', 'voided');
      if (existing.status === 'captured') {
        await PaymentCharge.updateOne({ _id: existing._id, status: 'captured' }, { $set: { status: 'refunded', updatedAt: new Date(now()) } });
      }
    },
  };
}

/** The 503 for a provider outage: nothing was charged. */
export const paymentUnavailable = () =>
  new AppError(503, 'payment_unavailable', 'Service unavailable', { detail: 'the payment provider is unavailable; nothing was charged. Try again later with a new Idempotency-Key', headers: { 'retry-after': '30' } });
