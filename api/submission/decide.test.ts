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
const { notify: _none, ...spec } = schema.parse({ url: 'https://videos.example/watch?v=1' });
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
  /** What the cache holds under the name the caller's key k1 hashes to: whose, and made from which body. */
  type Held = [owner: string, body: 'same' | 'other'] | undefined;
  const decide = (caller: Caller, idempotencyKey: string | undefined, held?: Held) =>
    decideSubmission({
      spec,
      caller,
      idempotencyKey,
      cached: (name) =>
        held && name === keyedName(caller.user, 'k1')
          ? stored(name, held[0], held[1] === 'same' ? digest : other)
          : undefined,
      randomId: '0123456789abcdef0123',
    });
  const mine = keyedName('alice', 'k1');
  const reused = { status: 422, message: expect.stringMatching(/Idempotency-Key was already used/) };

  it.each<[string, Caller, string | undefined, Held, object]>([
    [
      'no key: a random name',
      alice,
      undefined,
      undefined,
      { kind: 'create', name: 'dl-0123456789abcdef0123' },
    ],
    ['a key: the name it hashes to with the user', alice, 'k1', undefined, { kind: 'create', name: mine }],
    ['the same key from another user: another name', bob, 'k1', undefined, { name: keyedName('bob', 'k1') }],
    ['the key again, same body: the download it made', alice, 'k1', ['alice', 'same'], { kind: 'replay' }],
    ['the key again, another body: refused', alice, 'k1', ['alice', 'other'], { problem: reused }],
    [
      'a name someone else holds (unseen): the API server decides',
      alice,
      'k1',
      ['eve', 'same'],
      { name: mine },
    ],
    ['an admin sees every name', root, 'k1', ['alice', 'same'], { kind: 'replay' }],
    ['an empty key', alice, '', undefined, { kind: 'refuse', problem: { status: 400 } }],
    ['a key of 256 characters', alice, 'k'.repeat(256), undefined, { problem: { status: 400 } }],
    ['a key with a control character', alice, 'a\u0001b', undefined, { problem: { status: 400 } }],
  ])('%s', (_what, caller, key, held, expected) => {
    expect(decide(caller, key, held)).toMatchObject(expected);
  });

  it('names a keyed submission idempotent, and one without a key not', () => {
    expect(decide(alice, 'k1')).toMatchObject({ idempotent: true });
    expect(decide(alice, undefined)).toMatchObject({ idempotent: false });
  });

  it('creates the object with the owner label, the request digest and the operator finalizer', () => {
    expect(decide(alice, undefined)).toMatchObject({
      digest,
      create: {
        labels: { 'vdl.dev/owner': 'alice' },
        annotations: { [requestDigestAnnotation]: digest },
        // Set at creation, so the operator writes no finalizer patch of its own.
        finalizers: ['vdl.dev/stored-object'],
      },
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
