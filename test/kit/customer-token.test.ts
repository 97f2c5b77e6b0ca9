import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  const [v, id, exp, mac] = token.split('.');
  const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac.at(-1) as string);
  // 32 bytes -> 43 chars, the last carries 2 padding bits: flipping them decodes to the same MAC.
  const flipped = mac.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1];
  const variants = [
    [v, id, exp, flipped].join('.'),
    [v, id, exp, `${mac}=`].join('.'),
    [v, id, exp, `${mac}!`].join('.'),
    [v, id, exp, mac.replace(/-/g, '+').replace(/_/g, '/')].join('.'),
    [v, `${id}=`, exp, mac].join('.'),
    [v, id, ` ${exp}`, mac].join('.'),
  ].filter((variant) => variant !== token);
  assert.ok(variants.length >= 5);
  for (const variant of variants) assert.equal(verifyCustomerToken(key, variant, now), null, variant);
});
