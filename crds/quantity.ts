// Sizes and rates as the spec writes them (500Mi, 2G, 1.5Ti): the one
// pattern the CRD, the API and the operator check, and the bytes they mean.
// Every quantity it admits stays below 2^53 bytes, so it is an exact
// integer everywhere (a 400-digit number would reach yt-dlp as "Infinity").
// Also the looser pattern of a pod's CPU and memory, which may be milli-units.
import { z } from 'zod';

const units = {
  '': 1,
  K: 1e3,
  Ki: 2 ** 10,
  M: 1e6,
  Mi: 2 ** 20,
  G: 1e9,
  Gi: 2 ** 30,
  T: 1e12,
  Ti: 2 ** 40,
} as const;

// Integer digits each suffix may carry: at most about 1 PiB (10^15 bytes) in every unit.
const integerDigits: Array<[string, number]> = [
  ['', 15],
  ['K|Ki', 12],
  ['M|Mi', 9],
  ['G|Gi', 6],
  ['T|Ti', 3],
];

/** The pattern of a quantity, as text for the CRD (RE2) and a RegExp alike. */
export const quantityPattern = `^(${integerDigits
  .map(([suffix, digits]) =>
    suffix === '' ? `[0-9]{1,${digits}}` : `[0-9]{1,${digits}}(\\.[0-9]{1,3})?(${suffix})`,
  )
  .join('|')})$`;

const quantityRegExp = new RegExp(quantityPattern);

/** A size or rate as a zod string, for configuration that takes one. */
export const quantity = z.string().regex(quantityRegExp);

/**
 * A pod's CPU or memory request or limit (250m, 2, 1Gi): Kubernetes' own
 * suffixes, milli-units included, as the chart's values schema also writes it.
 */
export const resourceQuantityPattern = '^[0-9]+(\\.[0-9]+)?(m|K|Ki|M|Mi|G|Gi|T|Ti)?$';
export const resourceQuantity = z.string().regex(new RegExp(resourceQuantityPattern));

export function isQuantity(text: string): boolean {
  return quantityRegExp.test(text);
}

/** Bytes in a quantity such as 500Mi or 1.5G; throws on anything else. */
export function quantityBytes(text: string): number {
  if (!isQuantity(text)) throw new Error(`not a size: ${text}`);
  const digits = /^[0-9.]+/.exec(text)?.[0] ?? '';
  return Math.floor(Number(digits) * units[text.slice(digits.length) as keyof typeof units]);
}

/** A Kubernetes quantity of at least this many bytes, in whole mebibytes. */
export function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
