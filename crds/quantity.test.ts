import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isQuantity, quantityBytes, resourceQuantity, resourceQuantityPattern } from './quantity.ts';

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

describe('resourceQuantity', () => {
  it.each(['250m', '2', '1.5', '256Mi', '1Gi', '500K'])('admits the pod resource %s', (text) => {
    expect(resourceQuantity.safeParse(text).success).toBe(true);
  });
  it.each(['1e3', '-1', '1 Gi', '2gi', ''])('refuses %j', (text) => {
    expect(resourceQuantity.safeParse(text).success).toBe(false);
  });
  it("is the pattern the chart's values schema writes", () => {
    const schema = JSON.parse(
      readFileSync(fileURLToPath(new URL('../charts/vdl/values.schema.json', import.meta.url)), 'utf8'),
    ) as { definitions: { quantity: { pattern: string } } };
    expect(schema.definitions.quantity.pattern).toBe(resourceQuantityPattern);
  });
});
