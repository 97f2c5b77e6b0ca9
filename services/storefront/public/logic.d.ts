// Types of logic.js (plain JavaScript the browser loads as it is), for the TypeScript tests.
// Not served: the storefront serves only .html, .js and .css files.

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers?: Headers;
}

export interface TokenStore {
  cartToken: string | null;
  customerToken: string | null;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Client {
  api(method: string, path: string, options?: { body?: unknown; headers?: Record<string, string>; retry?: boolean }): Promise<ApiAnswer>;
  ensureCart(): Promise<ApiAnswer | null>;
  openTicket(fields: { email?: string; subject: string; message: string; orderId?: string }): Promise<ApiAnswer>;
  shopperHeaders(): Record<string, string>;
}

export function problemCode(body: unknown): string | undefined;
export function isRetryable(status: number, body: unknown): boolean;
export function checkoutResult(answer: ApiAnswer): { orderId: string | null; keepKey: boolean };
export function problemText(answer: ApiAnswer): string;
export function noticeText(notice: { code?: string; detail?: string } | null | undefined): string;
export function limitedStock(product: unknown): { available: number | null; maxPerOrder: number | null } | null;
export function tokenStore(storage: KeyValueStorage): TokenStore;
export function createClient(options: {
  fetch: (path: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<Response>;
  store: TokenStore;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}): Client;
