import { z } from 'zod';
import { ApiDoc } from '../kit/index.js';
import { addBody, checkedOutBody, holdsReleasedBody, internalCartParams, lineParams, setBody } from './routes.js';

const money = z.object({ amount: z.number().int(), currency: z.string() });
const lineSchema = z.object({
  id: z.string(), productId: z.string(), sku: z.string(), name: z.string(), quantity: z.number().int(), limited: z.boolean(),
  unitPrice: money, currentUnitPrice: money.nullable(), priceChanged: z.boolean(), lineTotal: money,
  hold: z.object({ status: z.enum(['active', 'expired', 'lost']), expiresAt: z.string() }).nullable(),
}).passthrough();
const cartSchema = z.object({
  id: z.string(), owner: z.enum(['anonymous', 'customer']), customerId: z.string().nullable().optional(), lines: z.array(lineSchema),
  totals: z.object({ lines: z.number().int(), units: z.number().int(), subtotal: money, currentSubtotal: money.nullable() }),
  limits: z.object({ maxLines: z.number().int(), maxUnits: z.number().int() }),
  expiresAt: z.string(), notices: z.array(z.object({ code: z.string() }).passthrough()),
}).passthrough();
const cart = { description: 'The cart, holds refreshed, with notices', schema: cartSchema };
const shopperErrors = [401, 404, 409, 422, 503];

/** The cart's operations, described with the schemas its routes validate with (docs/carts.md has the rules). */
export function cartApiDoc(): ApiDoc {
  return new ApiDoc({ service: 'cart', title: 'Shop cart', version: '1.0.0', description: 'Guest (`X-Cart-Token`) and customer carts; limited items are held in inventory with an expiry.', path: '/api/cart/openapi.json' })
    .add({ method: 'post', path: '/api/cart/carts', summary: 'A new guest cart (201, with its token), or the customer\'s one cart', access: 'shopper', responses: { 201: { description: 'Created', schema: z.object({ token: z.string().optional(), cart: cartSchema }) }, 200: { description: 'The customer\'s existing cart', schema: z.object({ cart: cartSchema }) } }, errors: [401] })
    .add({ method: 'get', path: '/api/cart/cart', summary: 'The cart', access: 'shopper', responses: { 200: cart }, errors: [401, 404] })
    .add({ method: 'delete', path: '/api/cart/cart', summary: 'Empty the cart (releases its holds)', access: 'shopper', responses: { 200: cart }, errors: [401, 404] })
    .add({ method: 'post', path: '/api/cart/cart/lines', summary: 'Add a product (adds to its existing line)', access: 'shopper', body: addBody, responses: { 201: cart }, errors: shopperErrors })
    .add({ method: 'patch', path: '/api/cart/cart/lines/:lineId', summary: 'Set a line\'s quantity (resizes its hold)', access: 'shopper', params: lineParams, body: setBody, responses: { 200: cart }, errors: shopperErrors })
    .add({ method: 'delete', path: '/api/cart/cart/lines/:lineId', summary: 'Remove a line (releases its hold)', access: 'shopper', params: lineParams, responses: { 200: cart }, errors: [401, 404, 503] })
    .add({ method: 'get', path: '/api/cart/internal/checkout-view', summary: 'Checkout\'s view of the shopper\'s cart: version, current prices, hold ids (service token in X-Internal-Token)', access: 'shopper', headers: z.object({ 'x-internal-token': z.string() }), responses: { 200: { description: 'Cart for checkout', schema: z.object({ id: z.string(), version: z.number().int(), lines: z.array(z.object({}).passthrough()) }).passthrough() } }, errors: [401, 404, 503] })
    .add({ method: 'post', path: '/api/cart/internal/carts/:cartId/checked-out', summary: 'Remove the ordered lines (their holds are committed, not released)', access: 'internal', params: internalCartParams, body: checkedOutBody, responses: { 200: { description: 'Done', schema: z.object({ cartId: z.string(), cleared: z.number().int() }) } }, errors: [401] })
    .add({ method: 'post', path: '/api/cart/internal/carts/:cartId/holds-released', summary: 'Mark holds checkout released as lost', access: 'internal', params: internalCartParams, body: holdsReleasedBody, responses: { 200: { description: 'Done', schema: z.object({ cartId: z.string(), released: z.number().int() }) } }, errors: [401] })
    .add({ method: 'post', path: '/api/cart/cart/merge', summary: 'Merge the guest cart (`X-Cart-Token`) into the signed-in customer\'s cart', access: 'customer', responses: { 200: cart }, errors: [401, 404, 503] });
}
