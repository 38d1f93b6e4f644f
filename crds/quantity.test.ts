import { describe, expect, it } from 'vitest';
import { isQuantity, quantityBytes } from './quantity.ts';

describe('quantityBytes', () => {
  it.each([
    ['1000', 1000],
    ['10Ki', 10_240],
    ['1.5G', 1_500_000_000],
    ['2Gi', 2 * 2 ** 30],
    ['999.999Ti', Math.floor(999.999 * 2 ** 40)],
    ['999999999999999', 999_999_999_999_999],
  ])('%s is %d bytes', (text, bytes) => {
    expect(quantityBytes(text)).toBe(bytes);
  });

  it.each(['1 GB', '1.5', '-1', '1e9', '1000Ti', '9'.repeat(400), `${'9'.repeat(16)}`, '1.5555Gi', 'Gi'])(
    'refuses %s, which is no size or not below 1Pi',
    (text) => {
      expect(isQuantity(text)).toBe(false);
      expect(() => quantityBytes(text)).toThrow(/not a size/);
    },
  );

  it('keeps every quantity it admits an exact integer', () => {
    for (const largest of [
      '999999999999999',
      '999999999999.999Ki',
      '999999999.999Mi',
      '999999.999Gi',
      '999.999Ti',
    ])
      expect(quantityBytes(largest)).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });
});
