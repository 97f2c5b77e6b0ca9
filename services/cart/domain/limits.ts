import { AppError, unprocessable } from '../../kit/index.js';
import type { CartDeps } from './context.js';
import type { CartDoc } from '../models.js';
import type { Product } from '../clients.js';

/**
 * Q4 and Q5: checks a cart about to hold `quantity` of `product` in one line
 * (`isNewLine` when that line does not exist yet). Throws a 422 naming the limit.
 */
export function checkCartLimits(deps: CartDeps, cart: CartDoc, product: Pick<Product, 'id' | 'maxPerOrder'>, quantity: number, isNewLine: boolean): void {
  const { CART_MAX_LINES: maxLines, CART_MAX_UNITS: maxUnits, CART_MAX_LINE_QUANTITY: maxLine } = deps.config;
  if (isNewLine && cart.lines.length + 1 > maxLines) throw unprocessable('cart_line_limit', `a cart holds at most ${maxLines} different products`, { limit: 'maxLines', max: maxLines });
  const others = cart.lines.filter((line) => line.productId !== product.id).reduce((sum, line) => sum + line.quantity, 0);
  if (others + quantity > maxUnits) throw unprocessable('cart_unit_limit', `a cart holds at most ${maxUnits} units`, { limit: 'maxUnits', max: maxUnits, requested: others + quantity });
  const perOrder = product.maxPerOrder ?? maxLine;
  if (quantity > perOrder) {
    const limit = product.maxPerOrder === null ? 'maxLineQuantity' : 'maxPerOrder';
    throw unprocessable(limit === 'maxPerOrder' ? 'max_per_order' : 'line_quantity_limit', `at most ${perOrder} of this product per order`, { limit, max: perOrder, requested: quantity });
  }
}

/** Q5: a customer's units of a limited SKU, held in carts and bought in orders (from inventory), plus `quantity` must fit. */
export async function checkCustomerLimit(deps: CartDeps, customerId: string, sku: string, quantity: number, alreadyInThisLine: number): Promise<void> {
  const max = deps.config.CART_LIMITED_MAX_PER_CUSTOMER;
  const usage = await deps.clients.usage(`customer:${customerId}`, sku);
  const elsewhere = usage.held - alreadyInThisLine + usage.committed;
  if (elsewhere + quantity > max) {
    throw unprocessable('customer_limit', `a customer may buy at most ${max} of this item`, { limit: 'maxPerCustomer', max, alreadyHeldOrBought: elsewhere, requested: quantity });
  }
}

/**
 * Guests and limited products (issue 9, item 7; docs/carts.md): a
 * `customers_only` product asks the guest to sign in (403 sign_in_required); a
 * `per_client` one counts the units that guest carts of this client key hold
 * and bought, like the per-customer cap. The cart keeps the key of its first
 * limited line, so its holds stay counted under one key.
 */
export async function checkGuestLimit(deps: CartDeps, cart: CartDoc, policy: Product['limitedPolicy'], sku: string, quantity: number, alreadyInThisLine: number, clientKey: string): Promise<void> {
  if (policy === 'customers_only') {
    throw new AppError(403, 'sign_in_required', 'Sign in required', { detail: 'this item is sold to signed-in customers only: sign in, then add it again', extra: { limit: 'customersOnly' } });
  }
  // A hold made before the cart had a key is owned by the cart, so it is not in the client's usage.
  const ownedByKey = Boolean(cart.clientKey);
  cart.clientKey ??= clientKey;
  const max = deps.config.CART_LIMITED_MAX_PER_CLIENT;
  const usage = await deps.clients.usage(`client:${cart.clientKey}`, sku);
  const elsewhere = usage.held - (ownedByKey ? alreadyInThisLine : 0) + usage.committed;
  if (elsewhere + quantity > max) {
    throw unprocessable('client_limit', `guests may buy at most ${max} of this item; sign in or buy fewer`, { limit: 'maxPerClient', max, alreadyHeldOrBought: elsewhere, requested: quantity });
  }
}
