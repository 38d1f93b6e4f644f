import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { completeBody, failureOf, InOrderHash, isTransientS3Error, UploadError } from './uploader.ts';

describe('completeBody', () => {
  it('lists every part in order with the ETag S3 returned for it', () => {
    expect(completeBody(['"a"', '"b"'])).toBe(
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part>' +
        '<Part><PartNumber>2</PartNumber><ETag>"b"</ETag></Part></CompleteMultipartUpload>',
    );
  });
});

describe('isTransientS3Error', () => {
  it.each([
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), true],
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    [new UploadError('503 SlowDown', 'SlowDown', true), true],
    // An expired signature or an aborted upload does not come back by retrying.
    [new UploadError('403 AccessDenied', 'AccessDenied', false), false],
    [new UploadError('404 NoSuchUpload', 'NoSuchUpload', false), false],
    [new Error('something else'), false],
  ])('%s: %s', (error, transient) => {
    expect(isTransientS3Error(error)).toBe(transient);
  });
});

describe('failureOf', () => {
  const error = (code: string) => `<Error><Code>${code}</Code><Message>m</Message></Error>`;
  it.each([
    [200, '', undefined],
    [204, '', undefined],
    // Complete can fail in a 200.
    [200, error('InternalError'), { code: 'InternalError', transient: true }],
    [503, error('SlowDown'), { code: 'SlowDown', transient: true }],
    [500, '', { code: 'HTTP500', transient: true }],
    [403, error('SignatureDoesNotMatch'), { code: 'SignatureDoesNotMatch', transient: false }],
    [404, error('NoSuchUpload'), { code: 'NoSuchUpload', transient: false }],
    [400, error('EntityTooSmall'), { code: 'EntityTooSmall', transient: false }],
  ])('%i %s', (status, body, expected) => {
    const failure = failureOf({ status, body }, 'part 1');
    expect(failure && { code: failure.code, transient: failure.transient }).toEqual(expected);
  });
});

describe('InOrderHash', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  it('hashes each byte once, in order, however often a part is read again', () => {
    const hash = new InOrderHash();
    hash.update(Buffer.from('hello '), 0);
    // A retried part read from its start again, and further.
    hash.update(Buffer.from('hello wor'), 0);
    hash.update(Buffer.from('world'), 6);
    expect(hash.bytes).toBe(11);
    expect(hash.digest()).toBe(sha256('hello world'));
  });
  it('refuses a gap: bytes never read cannot be in the hash', () => {
    const hash = new InOrderHash();
    hash.update(Buffer.from('ab'), 0);
    expect(() => hash.update(Buffer.from('d'), 3)).toThrow(/skipped/);
  });
});
