// Short-lived tickets that open a live stream (WebSocket, SSE) where a browser
// cannot send an Authorization header, so the API key never travels in a URL.
// A ticket is HMAC-signed with a key every replica shares: any replica checks
// it without shared state; it names the key it was issued for, so revoking
// that key also refuses its tickets and ends what they opened.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ApiKeyStore, Caller } from './api-keys.ts';

export const TicketResponse = z
  .object({
    ticket: z.string().describe('Pass as `?ticket=` to GET /ws or GET /status/{id}/events.'),
    expires_at: z.string().describe('Until when the ticket opens a stream (ISO 8601).'),
  })
  .describe('A ticket that opens live streams as the caller, for a short while.');
export type TicketResponse = z.infer<typeof TicketResponse>;

const Claims = z.object({ k: z.string().max(64), e: z.number().int() });
const context = 'vdl stream ticket v1\0';
const maxTicketLength = 512;

/** The HMAC key from its base64 configuration; empty: a random one, valid in this process only. */
export function ticketKeyFrom(base64: string): { key: Buffer; shared: boolean } {
  if (!base64) return { key: randomBytes(32), shared: false };
  const key = Buffer.from(base64, 'base64');
  if (key.length < 32) throw new Error('VDL_API_TICKET_KEY must be at least 32 bytes, base64-encoded');
  return { key, shared: true };
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(context).update(payload).digest();
}

/** A ticket for the API key with this sha256 hash, valid until expiresAtMs. */
export function issueTicket(key: Buffer, keyHash: string, expiresAtMs: number): string {
  const payload = Buffer.from(JSON.stringify({ k: keyHash, e: Math.ceil(expiresAtMs / 1000) })).toString(
    'base64url',
  );
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** The key hash a ticket was issued for, if it is ours, intact and not expired. */
export function verifyTicket(key: Buffer, ticket: string, nowMs: number): string | undefined {
  if (ticket.length > maxTicketLength) return undefined;
  const [payload, signature, extra] = ticket.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: z.infer<typeof Claims>;
  try {
    claims = Claims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return undefined;
  }
  return claims.e * 1000 > nowMs ? claims.k : undefined;
}

/** Who opens a live stream: the Authorization header if sent, else a ticket; check tells who it is now. */
export function streamCaller(
  keys: ApiKeyStore,
  ticketKey: Buffer,
  authorization: string | undefined,
  ticket: string | undefined,
  nowMs: number,
): { caller: Caller; check: () => Caller | undefined } | undefined {
  if (authorization !== undefined || !ticket) {
    const caller = keys.authenticate(authorization);
    return caller && { caller, check: () => keys.authenticate(authorization) };
  }
  const hash = verifyTicket(ticketKey, ticket, nowMs);
  const caller = hash === undefined ? undefined : keys.authenticateHash(hash);
  return caller && { caller, check: () => keys.authenticateHash(hash as string) };
}
