import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signedHeaders, signingKey, verificationFailure } from './signature.ts';

// The example of the Standard Webhooks specification (its README's "Verifying" section),
// so the signature is the one every receiver library computes, not only our own.
const spec = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it('match the specification example', () => {
    const headers = signedHeaders(signingKey(spec.secret), spec.id, spec.timestamp, spec.body);
    expect(headers).toEqual({
      'webhook-id': spec.id,
      'webhook-timestamp': String(spec.timestamp),
      'webhook-signature': spec.signature,
    });
  });

  it.each([
    ['whsec_ and base64: the decoded bytes', 'whsec_aGVsbG8=', Buffer.from('hello')],
    ['a raw key: its UTF-8 bytes', 'hello', Buffer.from('hello')],
    ['surrounding white space (a Secret written with a newline) is dropped', 'hello\n', Buffer.from('hello')],
  ])('take the key from %s', (_case, secret, bytes) => {
    expect(signingKey(secret)).toEqual(bytes);
  });

  it('sign id, timestamp and body with HMAC-SHA256', () => {
    const key = Buffer.from('k');
    const expected = createHmac('sha256', key).update('a.5.{}').digest('base64');
    expect(signedHeaders(key, 'a', 5, '{}')['webhook-signature']).toBe(`v1,${expected}`);
  });

  const key = signingKey(spec.secret);
  const good = signedHeaders(key, spec.id, spec.timestamp, spec.body);
  it.each([
    ['a valid request', good, spec.body, spec.timestamp + 10, undefined],
    [
      'one of several signatures',
      { ...good, 'webhook-signature': `v1,AAAA ${good['webhook-signature']}` },
      spec.body,
      spec.timestamp,
      undefined,
    ],
    ['a changed body', good, '{"test": 1}', spec.timestamp, 'no signature matches'],
    ['another id', { ...good, 'webhook-id': 'msg_other' }, spec.body, spec.timestamp, 'no signature matches'],
    ['an old timestamp (a replay)', good, spec.body, spec.timestamp + 301, 'timestamp outside the tolerance'],
    ['no headers', {}, spec.body, spec.timestamp, 'missing webhook headers'],
    [
      'another version',
      { ...good, 'webhook-signature': good['webhook-signature'].replace('v1,', 'v2,') },
      spec.body,
      spec.timestamp,
      'no signature matches',
    ],
  ])('verify %s', (_case, headers, body, now, failure) => {
    expect(verificationFailure(key, headers, body, now)).toBe(failure);
  });
});
