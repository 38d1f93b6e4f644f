import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../../crds/video-download.ts';
import type { Caller } from '../api-keys.ts';
import { requestDigest, requestDigestAnnotation } from '../request-digest.ts';
import { downloadRequest } from '../schemas.ts';
import { createFailure, decideSubmission, quotaRefusal, readSubmission } from './decide.ts';

const schema = downloadRequest(2048);
const alice: Caller = { user: 'alice', role: 'user' };
const bob: Caller = { user: 'bob', role: 'user' };
const root: Caller = { user: 'root', role: 'admin' };
const spec = schema.parse({ url: 'https://videos.example/watch?v=1' });
const keyedName = (user: string, key: string) =>
  `dl-${createHash('sha256').update(`${user}\0${key}`).digest('hex').slice(0, 20)}`;

function stored(name: string, owner: string, digest: string): VideoDownload {
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: {
      name,
      namespace: 'vdl',
      labels: { 'vdl.dev/owner': owner },
      annotations: { [requestDigestAnnotation]: digest },
    },
    spec,
  } as unknown as VideoDownload;
}

describe('readSubmission', () => {
  it.each([
    [
      'a kubectl-only field',
      { url: 'https://v.example/', storage: { bucket: 'b' } },
      422,
      /^storage: only kubectl/,
    ],
    ['no URL', { format: { preset: '720p' } }, 422, /url/],
    ['a URL over the length', { url: `https://v.example/${'a'.repeat(2100)}` }, 422, /url/],
    ['not an object', 'text', 422, /object/],
  ])('refuses %s with a %i naming the field', (_what, body, status, detail) => {
    const read = readSubmission(body, schema);
    if (!('refusal' in read)) throw new Error('expected a refusal');
    expect(read.refusal.status).toBe(status);
    expect(read.refusal.message).toMatch(detail);
  });

  it('gives the spec with the URL in canonical form, as it is checked and stored', () => {
    expect(readSubmission({ url: 'HTTP://Videos.Example/a b?x=1' }, schema)).toMatchObject({
      spec: { url: 'http://videos.example/a%20b?x=1' },
    });
  });
});

describe('decideSubmission', () => {
  const digest = requestDigest(spec);
  const other = requestDigest(schema.parse({ url: 'https://videos.example/watch?v=2' }));
  const decide = (caller: Caller, idempotencyKey: string | undefined, cache: VideoDownload[] = []) =>
    decideSubmission({
      spec,
      caller,
      idempotencyKey,
      cached: (name) => cache.find((d) => d.metadata.name === name),
      randomId: '0123456789abcdef0123',
    });

  it.each([
    [
      'no key: a random name',
      alice,
      undefined,
      [],
      { kind: 'create', name: 'dl-0123456789abcdef0123', idempotent: false },
    ],
    [
      'a key: the name it hashes to with the user',
      alice,
      'k1',
      [],
      { kind: 'create', name: keyedName('alice', 'k1'), idempotent: true },
    ],
    [
      'the same key from another user: another name',
      bob,
      'k1',
      [],
      { kind: 'create', name: keyedName('bob', 'k1') },
    ],
    [
      'the key again, same body: the download it made',
      alice,
      'k1',
      [stored(keyedName('alice', 'k1'), 'alice', digest)],
      { kind: 'replay', name: keyedName('alice', 'k1') },
    ],
    [
      'the key again, another body: refused',
      alice,
      'k1',
      [stored(keyedName('alice', 'k1'), 'alice', other)],
      {
        kind: 'refuse',
        problem: { status: 422, message: expect.stringMatching(/Idempotency-Key was already used/) },
      },
    ],
    [
      'a name someone else holds (unseen): created, and the API server decides',
      alice,
      'k1',
      [stored(keyedName('alice', 'k1'), 'mallory', digest)],
      { kind: 'create', name: keyedName('alice', 'k1') },
    ],
    [
      'an admin sees every name',
      root,
      'k1',
      [stored(keyedName('root', 'k1'), 'alice', digest)],
      { kind: 'replay' },
    ],
    ['an empty key', alice, '', [], { kind: 'refuse', problem: { status: 400 } }],
    ['a key of 256 characters', alice, 'k'.repeat(256), [], { kind: 'refuse', problem: { status: 400 } }],
    ['a key with a control character', alice, 'a\u0001b', [], { kind: 'refuse', problem: { status: 400 } }],
  ])('%s', (_what, caller, key, cache, expected) => {
    expect(decide(caller, key, cache)).toMatchObject(expected);
  });

  it('creates the object with the owner label and the request digest', () => {
    expect(decide(alice, undefined)).toMatchObject({
      digest,
      create: { labels: { 'vdl.dev/owner': 'alice' }, annotations: { [requestDigestAnnotation]: digest } },
    });
  });
});

describe('createFailure', () => {
  const invalid = {
    kind: 'Status',
    details: {
      causes: [{ reason: 'FieldValueInvalid', field: 'spec.limits.rateLimit', message: 'secret 1000Ti' }],
    },
  };
  it.each([
    [
      '422: nothing made, the fields in our words',
      422,
      invalid,
      false,
      { releaseSlot: true, lookUpTwin: false },
    ],
    ['403: nothing made, the error stands', 403, undefined, false, { releaseSlot: true, lookUpTwin: false }],
    [
      '409 with a key: a twin made it, which keeps the slot',
      409,
      undefined,
      true,
      { releaseSlot: false, lookUpTwin: true },
    ],
    [
      '409 without a key: kept, the error stands',
      409,
      undefined,
      false,
      { releaseSlot: false, lookUpTwin: false },
    ],
    [
      '500: it may have been made, the slot stays',
      500,
      undefined,
      true,
      { releaseSlot: false, lookUpTwin: false },
    ],
    [
      'no answer: it may have been made, the slot stays',
      undefined,
      undefined,
      true,
      { releaseSlot: false, lookUpTwin: false },
    ],
  ])('%s', (_what, code, body, idempotent, expected) => {
    const failure = createFailure(code, body, idempotent);
    expect(failure).toMatchObject(expected);
    expect(failure.problem?.status).toBe(code === 422 ? 422 : undefined);
  });

  it('never passes on the API server words', () => {
    const detail = createFailure(422, invalid, false).problem?.message ?? '';
    expect(detail).toContain('limits.rateLimit');
    expect(detail).not.toContain('secret');
  });
});

describe('quotaRefusal', () => {
  it('is a 429 naming the count and the limit, retried in 30 s', () => {
    const problem = quotaRefusal(3, 3);
    expect(problem).toMatchObject({ status: 429, headers: { 'Retry-After': '30' } });
    expect(problem.message).toBe('you have 3 unfinished downloads; the limit is 3');
  });
});
