import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { customerTokenKey, signCustomerToken, verifyCustomerToken } from '../../services/kit/index.js';

const key = customerTokenKey('test-customer-token-secret-0123456789');
const now = Date.parse('2026-11-27T10:00:00Z');
const token = signCustomerToken(key, 'cust_42', now + 60_000);

test('when a customer token is valid and unexpired, then it names its customer; expired or signed with another key, null', () => {
  assert.equal(verifyCustomerToken(key, token, now), 'cust_42');
  assert.equal(verifyCustomerToken(key, token, now + 61_000), null);
  assert.equal(verifyCustomerToken(customerTokenKey('another-secret-0123456789'), token, now), null);
});

test('when a token is re-encoded in a non-canonical way (padding bits, =, !, +/ alphabet), then it does not verify', () => {
  const [v, id, exp, sid, mac] = token.split('.');
  assert.equal(v, 'v2');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // 32 bytes -> 43 chars, the last carries 2 padding bits: flipping them decodes to the same MAC.
  const flipped = mac.slice(0, -1) + alphabet[alphabet.indexOf(mac.at(-1) as string) ^ 1];
  const variants = [
    [v, id, exp, sid, flipped].join('.'),
    [v, id, exp, sid, `${mac}=`].join('.'),
    [v, id, exp, sid, `${mac}!`].join('.'),
    [v, id, exp, sid, mac.replace(/-/g, '+').replace(/_/g, '/')].join('.'),
    [v, `${id}=`, exp, sid, mac].join('.'),
    [v, id, ` ${exp}`, sid, mac].join('.'),
    [v, id, exp, `${sid}=`, mac].join('.'),
    [v, id, exp, mac].join('.'),
  ].filter((variant) => variant !== token);
  assert.ok(variants.length >= 7);
  for (const variant of variants) assert.equal(verifyCustomerToken(key, variant, now), null, variant);
});

test('when one customer signs in twice in the same second, then the two tokens differ (signing one out leaves the other)', () => {
  const a = signCustomerToken(key, 'cust_42', now + 60_000);
  const b = signCustomerToken(key, 'cust_42', now + 60_000);
  assert.notEqual(a, b);
  assert.deepEqual([verifyCustomerToken(key, a, now), verifyCustomerToken(key, b, now)], ['cust_42', 'cust_42']);
});

test('when a token issued before session ids (v1) is presented, then it still verifies until it expires', () => {
  const body = `v1.${Buffer.from('cust_7').toString('base64url')}.${Math.floor((now + 60_000) / 1000)}`;
  const v1 = `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  assert.equal(verifyCustomerToken(key, v1, now), 'cust_7');
  assert.equal(verifyCustomerToken(key, v1, now + 61_000), null);
  assert.equal(verifyCustomerToken(key, `${v1.slice(0, -2)}AA`, now), null);
});
