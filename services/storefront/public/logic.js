// The storefront page's logic that needs no DOM: the API client with its retry
// policy, the shopper's credentials, and what the page shows of API answers.
// app.js renders with it; test/storefront/logic.test.ts runs it in Node against
// the real services. Talks only to the public APIs (the Ingress's prefixes).

/** Statuses worth the same request again (with the same Idempotency-Key, when it has one). */
const RETRY_STATUSES = [429, 502, 503, 504];

/** The problem code of a problem+json body: its `type` is `urn:problem:<code>` (services/kit/errors.ts). */
export function problemCode(body) {
  const type = typeof body?.type === 'string' ? body.type : '';
  return type.startsWith('urn:problem:') ? type.slice('urn:problem:'.length) : undefined;
}

/**
 * The storefront retry policy: network errors, 429, 502, 503, 504, and 409
 * `in_progress` (a request with this Idempotency-Key is still running: the same
 * request, same key, answers once it is done).
 */
export function isRetryable(status, body) {
  if (status === 0 || RETRY_STATUSES.includes(status)) return true;
  return status === 409 && problemCode(body) === 'in_progress';
}

/**
 * What a checkout answer means for the page: the order id when the order exists
 * (201 paid, 200 a replay, 202 pending: the provider's answer is unknown and
 * recovery settles it); else whether the Idempotency-Key stays for the next try:
 * kept while the outcome may still change (network error, 429, 5xx, 409
 * in_progress), dropped when it is final (a decline asks for a new key).
 */
export function checkoutResult(r) {
  if ([200, 201, 202].includes(r.status) && r.body?.order?.id) return { orderId: r.body.order.id, keepKey: false };
  return { orderId: null, keepKey: isRetryable(r.status, r.body) || r.status >= 500 };
}

/** One line for a problem answer: its field errors, else `detail`, else `title`. */
export const problemText = (r) => r.body?.errors?.map((e) => `${e.field}: ${e.message}`).join('; ') || r.body?.detail || r.body?.title || `HTTP ${r.status}`;

/** What a cart notice says to the shopper: the API's `detail` (the code is for programs). */
export const noticeText = (notice) => notice?.detail || notice?.code || '';

/**
 * Stock of a limited product, as catalog reads carry it (`availability`, left out
 * when inventory is slow or down): `{ available, maxPerOrder }`, `available` null
 * when unknown; null for a product that is not limited.
 */
export function limitedStock(product) {
  if (!product?.limitedQuantity) return null;
  const available = typeof product.availability?.available === 'number' ? product.availability.available : null;
  return { available, maxPerOrder: product.maxPerOrder ?? null };
}

/** Keeps the shopper's tokens; the page passes localStorage, tests a Map-backed one. */
export function tokenStore(storage) {
  const slot = (key) => ({
    get: () => storage.getItem(key),
    set: (v) => (v ? storage.setItem(key, v) : storage.removeItem(key)),
  });
  const cart = slot('cartToken');
  const customer = slot('customerToken');
  return {
    get cartToken() { return cart.get(); },
    set cartToken(v) { cart.set(v); },
    get customerToken() { return customer.get(); },
    set customerToken(v) { customer.set(v); },
  };
}

/**
 * The API client: `fetch` and `sleep` are injected (the browser's, or a test's),
 * `store` holds the tokens. Every call names the shopper: the customer token when
 * signed in, else the guest cart token.
 */
export function createClient({ fetch, store, sleep = (ms) => new Promise((r) => setTimeout(r, ms)), random = Math.random }) {
  function shopperHeaders() {
    const h = {};
    if (store.customerToken) h.authorization = `Bearer ${store.customerToken}`;
    if (store.cartToken) h['x-cart-token'] = store.cartToken;
    return h;
  }

  /** One API call; with `retry`, the retry policy (backoff with full jitter, `Retry-After` honoured), always the same request. */
  async function api(method, path, { body, headers = {}, retry = method === 'GET' } = {}) {
    const attempts = retry ? 6 : 1;
    let last;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (attempt > 0) await sleep(random() * Math.min(4000, 250 * 2 ** attempt));
      let res;
      try {
        res = await fetch(path, { method, headers: { ...shopperHeaders(), ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
      } catch (error) {
        last = { status: 0, body: { title: 'Network error', detail: String(error) } };
        continue;
      }
      const data = res.status === 204 ? null : await res.json().catch(() => null);
      last = { status: res.status, body: data, headers: res.headers };
      if (!isRetryable(res.status, data)) return last;
      const after = Number(res.headers.get('retry-after'));
      if (after > 0 && after < 10) await sleep(after * 1000);
    }
    return last;
  }

  /** A guest gets a cart (and its token) before the first call that needs one; null when ready, else the failed answer. */
  async function ensureCart() {
    if (store.cartToken || store.customerToken) return null;
    const r = await api('POST', '/api/cart/carts', { retry: true });
    if (r.status !== 201 && r.status !== 200) return r;
    if (r.body?.token) store.cartToken = r.body.token;
    return null;
  }

  /**
   * Opens a support ticket. Support knows a shopper by the customer token or, for a
   * guest, the cart token (tickets/routes.ts): a new visitor gets a cart first. Not
   * retried: the ticket API takes no Idempotency-Key, so a retry could open it twice.
   */
  async function openTicket({ email, subject, message, orderId }) {
    const failed = await ensureCart();
    if (failed) return failed;
    const body = { subject, message, ...(email ? { email } : {}), ...(orderId ? { orderId } : {}) };
    return api('POST', '/api/support/tickets', { body });
  }

  return { api, ensureCart, openTicket, shopperHeaders };
}
