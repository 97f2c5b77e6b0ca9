import { randomBytes } from 'node:crypto';
import { conflict, notFound, signCustomerToken, unauthorized, revokeCustomerToken, type Clock, type Redis } from '../../kit/index.js';
import type { CustomerDoc, CustomersModels } from '../models.js';
import type { PasswordHasher } from './passwords.js';
import type { SignInLimiter } from './limiter.js';

export interface AccountDeps {
  models: CustomersModels;
  passwords: PasswordHasher;
  limiter: SignInLimiter;
  redis: Redis;
  clock: Clock;
  customerKey: Buffer;
  tokenTtlS: number;
}

export interface CustomerView {
  id: string;
  email: string;
  name: string | null;
  createdAt: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** Trimmed and lower-cased: `Ann@Example.com ` and `ann@example.com` are one account. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export const toCustomerView = (doc: CustomerDoc): CustomerView => ({ id: doc._id, email: doc.email, name: doc.name, createdAt: doc.createdAt.toISOString() });

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

/** Creates an account; 409 when the email is taken (the unique index decides, so two racing sign-ups cannot both win). */
export async function signUp(deps: AccountDeps, input: { email: string; password: string; name?: string | undefined }, client: string): Promise<CustomerView> {
  const doc: CustomerDoc = {
    _id: randomBytes(12).toString('base64url'),
    email: normaliseEmail(input.email),
    passwordHash: await deps.passwords.hash(input.password),
    name: input.name ?? null,
    createdAt: new Date(deps.clock.now()),
  };
  try {
    await deps.models.customers.create(doc);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    // Probing for taken emails through sign-up costs the client like a failed sign-in.
    await deps.limiter.recordClientFailure(client);
    throw conflict('email_taken', 'An account with this email already exists; sign in instead');
  }
  return toCustomerView(doc);
}

function issue(deps: AccountDeps, customerId: string): IssuedToken {
  const expiresAtMs = deps.clock.now() + deps.tokenTtlS * 1000;
  return { token: signCustomerToken(deps.customerKey, customerId, expiresAtMs), expiresAt: new Date(Math.floor(expiresAtMs / 1000) * 1000).toISOString() };
}

/**
 * Checks email and password. Unknown email and wrong password take the same
 * path: one scrypt verification (against a dummy hash when there is no
 * account), one failure counted, the same 401.
 */
export async function signIn(deps: AccountDeps, input: { email: string; password: string }, client: string): Promise<{ customer: CustomerView } & IssuedToken> {
  const email = normaliseEmail(input.email);
  await deps.limiter.assertAllowed(email, client);
  const doc = await deps.models.customers.findOne({ email }).lean<CustomerDoc>();
  const ok = await deps.passwords.verify(input.password, doc?.passwordHash ?? (await deps.passwords.dummyHash));
  if (!doc || !ok) {
    await deps.limiter.recordFailure(email, client);
    throw unauthorized('Email or password is wrong');
  }
  await deps.limiter.recordSuccess(email);
  return { customer: toCustomerView(doc), ...issue(deps, doc._id) };
}

/** Exchanges a live token for a new one; the old one is revoked first, so each token refreshes once. */
export async function refreshSession(deps: AccountDeps, session: { customerId: string; token: string; expiresAtMs: number }): Promise<IssuedToken> {
  if (!(await revokeCustomerToken(deps.redis, session.token, session.expiresAtMs, deps.clock.now()))) throw unauthorized('The customer token was already refreshed or signed out');
  return issue(deps, session.customerId);
}

/** Signs out: the token is refused by every service from now on. */
export async function signOut(deps: AccountDeps, session: { token: string; expiresAtMs: number }): Promise<void> {
  await revokeCustomerToken(deps.redis, session.token, session.expiresAtMs, deps.clock.now());
}

export async function getCustomer(deps: AccountDeps, customerId: string): Promise<CustomerView> {
  const doc = await deps.models.customers.findById(customerId).lean<CustomerDoc>();
  if (!doc) throw notFound('This account no longer exists');
  return toCustomerView(doc);
}
