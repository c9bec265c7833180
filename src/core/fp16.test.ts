import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalfBits, halfBitsToFloat } from './fp16.js';

test('half conversions of exact values round trip', () => {
  for (const v of [0, 1, -1, 0.5, 2, 65504, -65504, 2 ** -14, 2 ** -24, 0.333251953125]) {
    assert.equal(halfBitsToFloat(floatToHalfBits(v)), v, `value ${v}`);
  }
  assert.equal(floatToHalfBits(1), 0x3c00);
  assert.equal(floatToHalfBits(-2), 0xc000);
});

test('half conversions handle rounding, overflow, infinities and NaN', () => {
  assert.equal(floatToHalfBits(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(floatToHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  assert.equal(floatToHalfBits(1e6), 0x7c00);
  assert.equal(halfBitsToFloat(0x7c00), Infinity);
  assert.equal(halfBitsToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfBitsToFloat(floatToHalfBits(NaN))));
  assert.equal(floatToHalfBits(2 ** -30), 0);
  assert.equal(floatToHalfBits(65519), 0x7bff); // rounds down to max half
  assert.equal(floatToHalfBits(65520), 0x7c00); // rounds up to Inf
});
