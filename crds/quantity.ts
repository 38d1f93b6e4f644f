// Sizes as the contract writes them (quantities such as 500Mi or 1.5G) and as
// bytes: the operator sizes a download pod's disk from them, the downloader
// enforces them.

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
export function parseQuantity(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(K|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`not a size: ${quantity}`);
  return Math.floor(Number(match[1]) * (units[match[2] ?? ''] as number));
}

/** A Kubernetes quantity of at least this many bytes, in whole mebibytes. */
export function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
