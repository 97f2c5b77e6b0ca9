import type { ApiDoc } from '../kit/index.js';
import { catalogApiDoc } from '../catalog/openapi.js';
import { cartApiDoc } from '../cart/openapi.js';
import { inventoryApiDoc } from '../inventory/openapi.js';
import { customersApiDoc } from '../customers/openapi.js';
import { checkoutApiDoc } from '../checkout/openapi.js';
import { fulfillmentApiDoc } from '../fulfillment/openapi.js';
import { supportApiDoc } from '../support/openapi.js';

/** Every service's API document, for the merged reference at /docs. A new service adds its line. */
export function allApiDocs(): ApiDoc[] {
  return [catalogApiDoc(), inventoryApiDoc(), cartApiDoc(), checkoutApiDoc(), fulfillmentApiDoc(), customersApiDoc(), supportApiDoc()];
}
