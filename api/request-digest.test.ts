import { describe, expect, it } from 'vitest';
import { canonicalJson, requestDigest } from './request-digest.ts';
import { DownloadRequest } from './schemas.ts';

const digestOf = (body: unknown) => requestDigest(DownloadRequest.parse(body));

describe('requestDigest', () => {
  it('writes keys in order at every level, so key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it.each([
    [
      'keys in another order',
      { retries: 3, url: 'https://v.example/a' },
      { url: 'https://v.example/a', retries: 3 },
    ],
    ['a default written out', { url: 'https://v.example/a' }, { url: 'https://v.example/a', retries: 2 }],
    ['another spelling of the same URL', { url: 'HTTPS://V.example/a' }, { url: 'https://v.example/a' }],
  ])('is the same for %s', (_what, a, b) => {
    expect(digestOf(a)).toBe(digestOf(b));
  });

  it.each([
    ['another URL', { url: 'https://v.example/a' }, { url: 'https://v.example/b' }],
    [
      'another option',
      { url: 'https://v.example/a' },
      { url: 'https://v.example/a', format: { preset: '720p' } },
    ],
  ])('differs for %s', (_what, a, b) => {
    expect(digestOf(a)).not.toBe(digestOf(b));
  });
});
