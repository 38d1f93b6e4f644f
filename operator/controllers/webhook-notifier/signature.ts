// Standard Webhooks signatures (standardwebhooks.com): the receiver checks
// HMAC-SHA256 over "id.timestamp.body" with the shared key, and rejects old
// timestamps, so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The key's bytes: "whsec_" and base64, as Standard Webhooks libraries write it, or the raw text. */
export function signingKey(secret: string): Buffer {
  const trimmed = secret.trim();
  return trimmed.startsWith('whsec_')
    ? Buffer.from(trimmed.slice(6), 'base64')
    : Buffer.from(trimmed, 'utf8');
}

function hmac(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}

export function signedHeaders(
  key: Buffer,
  id: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${hmac(key, id, timestampSeconds, body)}`,
  };
}

/**
 * A receiver's check, as the Standard Webhooks libraries make it: one of the
 * space-separated v1 signatures matches, and the timestamp is within
 * toleranceSeconds of now. Undefined when valid, otherwise why not.
 */
export function verificationFailure(
  key: Buffer,
  headers: Partial<Record<keyof SignedHeaders, string | undefined>>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): string | undefined {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (!id || !signatures || !Number.isInteger(timestamp)) return 'missing webhook headers';
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return 'timestamp outside the tolerance';
  const expected = Buffer.from(hmac(key, id, timestamp, body));
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? undefined : 'no signature matches';
}
