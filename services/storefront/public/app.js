// The storefront: a small page over the public APIs only. Hash routes:
// #/ (catalog, ?q=&category=), #/p/<id>, #/cart, #/checkout, #/order/<id>, #/account, #/help.
// The logic without the DOM (API client, retry policy, what answers show) is in logic.js.
import { checkoutResult, createClient, limitedStock, noticeText, problemText, tokenStore } from './logic.js';

const view = document.getElementById('view');
const flash = document.getElementById('flash');
const store = tokenStore(localStorage);
const { api, ensureCart: ensureCartOrFail, openTicket } = createClient({ fetch: (path, init) => fetch(path, init), store });

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const money = (p) => (p ? new Intl.NumberFormat(undefined, { style: 'currency', currency: p.currency }).format(p.amount / 100) : '–');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (text, error = false) => { flash.textContent = text ?? ''; flash.className = error ? 'error' : ''; };
const html = (s) => { view.innerHTML = s; };

async function ensureCart() {
  const failed = await ensureCartOrFail();
  if (failed) say(`Could not create a cart: ${problemText(failed)}`, true);
  return !failed;
}

async function showCatalog(params) {
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const cursor = params.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '12', ...(q ? { q } : {}), ...(category ? { category } : {}), ...(cursor ? { cursor } : {}) });
  const [list, cats] = await Promise.all([api('GET', `/api/catalog/products?${query}`), api('GET', '/api/catalog/categories')]);
  if (list.status !== 200) return html(`<p>Search failed: ${esc(problemText(list))}</p>`);
  const categories = (cats.body?.items ?? cats.body?.categories ?? []).map((c) => `<a href="#/?category=${encodeURIComponent(c.slug)}">${esc(c.name ?? c.slug)}</a>`).join(' · ');
  const next = list.body.nextCursor ? `<p><a id="next-page" href="#/?${new URLSearchParams({ ...(q ? { q } : {}), ...(category ? { category } : {}), cursor: list.body.nextCursor })}">Next page →</a></p>` : '';
  html(`<h1>${q ? `Results for “${esc(q)}”` : category ? esc(category) : 'All products'}</h1>
    <p class="muted">${categories}</p>
    <div class="grid">${list.body.items.map((p) => `<div class="card product" data-sku="${esc(p.sku)}">
      <a href="#/p/${encodeURIComponent(p.id)}"><strong>${esc(p.name)}</strong></a>
      <span class="price">${money(p.price)}</span>
      ${p.limitedQuantity ? `<span class="badge">Limited${p.availability ? `: ${esc(p.availability.available)} left` : ''}</span>` : ''}
    </div>`).join('') || '<p>No products match.</p>'}</div>${next}`);
}

async function showProduct(id) {
  const r = await api('GET', `/api/catalog/products/${encodeURIComponent(id)}`);
  if (r.status !== 200) return html(`<p>Product not found.</p>`);
  const p = r.body;
  // Stock of a limited product comes with the catalog read (inventory is not public).
  const limited = limitedStock(p);
  const stock = limited ? `<p><span class="badge">Limited quantity</span> ${limited.available !== null ? `<span id="stock">${limited.available} in stock</span>` : ''}${limited.maxPerOrder ? ` · at most ${limited.maxPerOrder} per order` : ''}</p>` : '';
  html(`<h1>${esc(p.name)}</h1><p class="price">${money(p.price)}</p>${stock}<p>${esc(p.description ?? '')}</p>
    <form id="add" class="stack"><label>Quantity <input name="quantity" type="number" min="1" value="1"></label><button type="submit">Add to cart</button></form>`);
  document.getElementById('add').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!(await ensureCart())) return;
    const quantity = Number(new FormData(event.target).get('quantity'));
    const r2 = await api('POST', '/api/cart/cart/lines', { body: { productId: p.id, quantity }, headers: { 'idempotency-key': crypto.randomUUID() }, retry: true });
    if (r2.status === 201 || r2.status === 200) { say(`Added ${quantity} × ${p.name} to your cart.`); location.hash = '#/cart'; }
    else say(`Not added: ${problemText(r2)}`, true);
  });
}

let countdown;
async function showCart() {
  clearInterval(countdown);
  if (!store.cartToken && !store.customerToken) return html('<h1>Your cart</h1><p>Your cart is empty.</p>');
  const r = await api('GET', '/api/cart/cart');
  if (r.status === 404) { store.cartToken = null; return html('<h1>Your cart</h1><p>Your cart is empty.</p>'); }
  if (r.status !== 200) return html(`<p>Cart unavailable: ${esc(problemText(r))}</p>`);
  const cart = r.body;
  const notices = (cart.notices ?? []).map((n) => `<li>${esc(noticeText(n))}</li>`).join('');
  html(`<h1>Your cart</h1>${notices ? `<ul class="notices">${notices}</ul>` : ''}
    <table><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Hold</th><th></th></tr></thead><tbody>
    ${cart.lines.map((l) => `<tr class="line" data-line="${esc(l.id)}"><td>${esc(l.name)}<div class="muted">${esc(l.sku)}</div></td>
      <td><input class="qty" type="number" min="1" value="${l.quantity}" aria-label="Quantity of ${esc(l.name)}"></td>
      <td>${money(l.lineTotal)}${l.priceChanged ? `<div class="muted">now ${money(l.currentUnitPrice)} each</div>` : ''}</td>
      <td>${l.hold ? `<span class="badge ${l.hold.status === 'active' ? 'ok' : ''}">${esc(l.hold.status)}</span> <span class="countdown" data-expires="${esc(l.hold.expiresAt)}"></span>` : ''}</td>
      <td><button class="secondary remove" type="button">Remove</button></td></tr>`).join('')}
    </tbody></table>
    <p>Subtotal: <strong>${money(cart.totals.currentSubtotal ?? cart.totals.subtotal)}</strong> · ${cart.totals.units} items</p>
    ${cart.lines.length ? '<p><a href="#/checkout"><button type="button" id="to-checkout">Check out</button></a></p>' : '<p>Your cart is empty.</p>'}`);
  const tick = () => document.querySelectorAll('.countdown').forEach((el) => {
    const left = Math.max(0, Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000));
    el.textContent = left > 0 ? `held for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : 'hold expired';
  });
  tick();
  countdown = setInterval(tick, 1000);
  view.querySelectorAll('tr.line').forEach((row) => {
    const id = row.dataset.line;
    row.querySelector('.remove').addEventListener('click', async () => { await api('DELETE', `/api/cart/cart/lines/${id}`, { headers: { 'idempotency-key': crypto.randomUUID() }, retry: true }); showCart(); });
    row.querySelector('.qty').addEventListener('change', async (e) => {
      const r2 = await api('PATCH', `/api/cart/cart/lines/${id}`, { body: { quantity: Number(e.target.value) }, headers: { 'idempotency-key': crypto.randomUUID() }, retry: true });
      if (r2.status >= 400) say(problemText(r2), true);
      showCart();
    });
  });
}

function showCheckout() {
  html(`<h1>Checkout</h1><form id="checkout" class="stack">
    <label>Email <input name="email" type="email" required></label>
    <label>Name <input name="name" required></label>
    <label>Address <input name="line1" required></label>
    <label>City <input name="city" required></label>
    <label>Postal code <input name="postalCode" required></label>
    <label>Country <input name="country" value="DE" maxlength="2" required></label>
    <button type="submit" id="place-order">Place order</button></form>`);
  document.getElementById('checkout').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const button = document.getElementById('place-order');
    button.disabled = true;
    // One key per attempt to buy this cart: every retry, also after a reload, reuses it.
    const key = sessionStorage.getItem('checkoutKey') ?? crypto.randomUUID();
    sessionStorage.setItem('checkoutKey', key);
    say('Placing your order…');
    const body = { email: f.get('email'), shippingAddress: { name: f.get('name'), line1: f.get('line1'), city: f.get('city'), postalCode: f.get('postalCode'), country: String(f.get('country')).toUpperCase() } };
    // Retried on 409 in_progress, 429 and 5xx with this same key (logic.js isRetryable).
    const r = await api('POST', '/api/checkout', { body, headers: { 'idempotency-key': key }, retry: true });
    button.disabled = false;
    const result = checkoutResult(r);
    if (!result.keepKey) sessionStorage.removeItem('checkoutKey');
    if (result.orderId) {
      localStorage.setItem('lastOrder', result.orderId);
      say(`Order ${result.orderId} placed.`);
      location.hash = `#/order/${result.orderId}`;
    } else {
      say(`Checkout failed: ${problemText(r)}${result.keepKey ? ' Try again: the same order will not be placed twice.' : ''}`, true);
    }
  });
}

const FLOW = ['pending', 'paid', 'fulfilling', 'shipped'];
async function showOrder(id) {
  for (let i = 0; i < 120 && location.hash === `#/order/${id}`; i += 1) {
    const r = await api('GET', `/api/orders/${encodeURIComponent(id)}`);
    if (r.status !== 200) return html(`<p>Order not found.</p>`);
    const o = r.body.order;
    const at = FLOW.indexOf(o.status);
    html(`<h1>Order ${esc(o.id)}</h1><p class="status" id="order-status">${esc(o.status)}</p>
      <ol class="steps">${FLOW.map((s, n) => `<li class="${n <= at ? 'done' : ''}">${s}</li>`).join('')}</ol>
      <table>${o.lines.map((l) => `<tr><td>${esc(l.name)}</td><td>${l.quantity} ×</td><td>${money(l.unitPrice)}</td></tr>`).join('')}</table>
      <p>Total: <strong>${money(o.total)}</strong></p><p><a href="#/help?order=${encodeURIComponent(o.id)}">Questions about this order?</a></p>`);
    if (['shipped', 'payment_failed', 'cancelled'].includes(o.status)) return;
    await sleep(1000);
  }
}

async function showAccount() {
  if (store.customerToken) {
    const [me, orders] = await Promise.all([api('GET', '/api/customers/me'), api('GET', '/api/customers/me/orders')]);
    if (me.status === 401) { store.customerToken = null; return showAccount(); }
    html(`<h1>Hello ${esc(me.body?.customer?.name ?? me.body?.customer?.email ?? '')}</h1>
      <h2>Your orders</h2><ul>${(orders.body?.orders ?? []).map((o) => `<li><a href="#/order/${encodeURIComponent(o.id)}">${esc(o.id)}</a> ${esc(o.status)} ${money(o.total)}</li>`).join('') || '<li>None yet.</li>'}</ul>
      <button id="sign-out" class="secondary">Sign out</button>`);
    document.getElementById('sign-out').addEventListener('click', async () => { await api('DELETE', '/api/customers/sessions/current'); store.customerToken = null; nav(); });
    return;
  }
  html(`<h1>Sign in</h1><form id="sign-in" class="stack"><label>Email <input name="email" type="email" required></label>
    <label>Password <input name="password" type="password" minlength="8" required></label>
    <button type="submit">Sign in</button><button type="button" id="sign-up" class="secondary">Create account</button></form>`);
  const form = document.getElementById('sign-in');
  const signIn = async (email, password) => {
    const r = await api('POST', '/api/customers/sessions', { body: { email, password } });
    if (r.status !== 200 && r.status !== 201) return say(`Sign-in failed: ${problemText(r)}`, true);
    store.customerToken = r.body.token;
    store.cartToken = null; // the guest cart was merged into the customer's cart at sign-in
    say('Signed in.');
    nav();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); const f = new FormData(form); signIn(f.get('email'), f.get('password')); });
  document.getElementById('sign-up').addEventListener('click', async () => {
    const f = new FormData(form);
    const r = await api('POST', '/api/customers', { body: { email: f.get('email'), password: f.get('password') } });
    if (r.status !== 201) return say(`Sign-up failed: ${problemText(r)}`, true);
    signIn(f.get('email'), f.get('password'));
  });
}

async function showHelp(params) {
  const q = params.get('q') ?? '';
  const faq = await api('GET', `/api/support/faq${q ? `?q=${encodeURIComponent(q)}` : ''}`);
  const entries = faq.body?.items ?? faq.body?.entries ?? [];
  html(`<h1>Help</h1><form id="faq-search"><input name="q" value="${esc(q)}" placeholder="Search the FAQ"> <button>Search</button></form>
    <dl>${entries.map((e) => `<dt><strong>${esc(e.question)}</strong></dt><dd>${esc(e.answer)}</dd>`).join('') || '<p>No FAQ entries.</p>'}</dl>
    <h2>Contact us</h2><form id="ticket" class="stack"><label>Email <input name="email" type="email" required></label>
    <label>Order (optional) <input name="orderId" value="${esc(params.get('order') ?? '')}"></label>
    <label>Subject <input name="subject" required></label><label>Message <textarea name="message" required></textarea></label>
    <button type="submit">Send</button></form>`);
  document.getElementById('faq-search').addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/help?q=${encodeURIComponent(new FormData(e.target).get('q'))}`; });
  document.getElementById('ticket').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    // A new guest has no cart token yet: openTicket gets one first (support knows guests by it).
    const r = await openTicket({ email: f.get('email'), subject: f.get('subject'), message: f.get('message'), orderId: f.get('orderId') || undefined });
    say(r.status === 201 ? `Ticket ${r.body.id} opened; we will answer by email.` : `Not sent: ${problemText(r)}`, r.status !== 201);
  });
}

async function nav() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  document.getElementById('nav-account').textContent = store.customerToken ? 'Account' : 'Sign in';
  try {
    if (path.startsWith('/p/')) await showProduct(decodeURIComponent(path.slice(3)));
    else if (path === '/cart') await showCart();
    else if (path === '/checkout') showCheckout();
    else if (path.startsWith('/order/')) await showOrder(decodeURIComponent(path.slice(7)));
    else if (path === '/account') await showAccount();
    else if (path === '/help') await showHelp(params);
    else await showCatalog(params);
  } catch (error) {
    html(`<p>Something went wrong: ${esc(error.message)}</p>`);
  }
}

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = new FormData(event.target).get('q');
  location.hash = `#/?q=${encodeURIComponent(q)}`;
});
window.addEventListener('hashchange', () => { say(''); nav(); });
nav();
