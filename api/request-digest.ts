// What makes two submissions the same request, for Idempotency-Key: a hash
// of the validated spec (defaults applied, URL canonical, keys in order),
// kept in an annotation of the resource so every replica can compare.
import { createHash } from 'node:crypto';

export const requestDigestAnnotation = 'vdl.dev/request-sha256';

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestDigest(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}
