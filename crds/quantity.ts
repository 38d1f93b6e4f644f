// Byte quantities as the spec writes them (500Mi, 1.5G): the contract's
// units, for every program that turns a limit into bytes.
const units: Record<string, number> = {
  '': 1,
  K: 1e3,
  Ki: 2 ** 10,
  M: 1e6,
  Mi: 2 ** 20,
  G: 1e9,
  Gi: 2 ** 30,
  T: 1e12,
  Ti: 2 ** 40,
};

/** Bytes in a quantity such as 500Mi or 1.5G. */
export function bytesOf(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(K|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`not a size: ${quantity}`);
  return Math.floor(Number(match[1]) * (units[match[2] ?? ''] as number));
}
