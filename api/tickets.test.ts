import { describe, expect, it } from 'vitest';
import { ApiKeyStore, hashKey } from './api-keys.ts';
import { issueTicket, streamCaller, ticketKeyFrom, verifyTicket } from './tickets.ts';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const hash = hashKey('alices-key');

describe('stream tickets', () => {
  const ticket = issueTicket(key, hash, 60_000);
  const [payload, signature] = ticket.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ k: hash, e: 999_999 })).toString('base64url');
  const cases: Array<[string, Buffer, string, number, string | undefined]> = [
    ['valid before it expires', key, ticket, 59_999, hash],
    ['refused once it expires', key, ticket, 60_000, undefined],
    ['refused under another key (another deployment)', otherKey, ticket, 0, undefined],
    ['refused with a payload changed (a later expiry)', key, `${forged}.${signature}`, 0, undefined],
    ['refused with the signature cut short', key, `${payload}.${signature.slice(0, 10)}`, 0, undefined],
    ['refused without a signature', key, payload, 0, undefined],
    ['refused with a third part', key, `${ticket}.x`, 0, undefined],
    ['refused when it is an API key', key, 'alices-key', 0, undefined],
    ['refused when too long', key, `${ticket}${'a'.repeat(600)}`, 0, undefined],
    ['refused when empty', key, '', 0, undefined],
  ];
  it.each(cases)('%s', (_name, verifyKey, given, now, expected) => {
    expect(verifyTicket(verifyKey, given, now)).toBe(expected);
  });

  it('takes a shared key of at least 32 bytes, or makes one for this process', () => {
    expect(ticketKeyFrom(key.toString('base64'))).toEqual({ key, shared: true });
    expect(() => ticketKeyFrom(Buffer.alloc(16).toString('base64'))).toThrow(/at least 32 bytes/);
    const own = ticketKeyFrom('');
    expect(own.shared).toBe(false);
    expect(own.key).toHaveLength(32);
  });

  it("opens a stream as the ticket's key's user while that key is in the store", () => {
    const keys = new ApiKeyStore();
    keys.replace(`alice:user:${hash}\n`);
    const opened = streamCaller(
      keys,
      key,
      undefined,
      issueTicket(key, hash, Date.now() + 60_000),
      Date.now(),
    );
    expect(opened?.caller).toEqual({ user: 'alice', role: 'user' });
    // A header, when sent, is what counts: a ticket never rescues a wrong key.
    expect(
      streamCaller(keys, key, 'Bearer wrong', issueTicket(key, hash, Date.now() + 60_000), Date.now()),
    ).toBeUndefined();
    keys.replace('');
    expect(opened?.check()).toBeUndefined();
  });
});
