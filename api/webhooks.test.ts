import { describe, expect, it } from 'vitest';
import { parseWebhooks, submissionNotify } from './webhooks.ts';

const alice = { secretRef: { name: 'vdl-webhook-alice' } };

describe("users' webhooks", () => {
  it('reads each user entry, with the default key and the url made canonical', () => {
    const { byUser, errors } = parseWebhooks(
      JSON.stringify({ alice, bob: { ...alice, url: 'HTTPS://Hooks.Example/b' } }),
    );
    expect(errors).toEqual([]);
    expect(byUser.get('alice')).toEqual({ secretRef: { name: 'vdl-webhook-alice', key: 'secret' } });
    expect(byUser.get('bob')?.url).toBe('https://hooks.example/b');
  });

  it.each([
    ['no text', '', []],
    ['not JSON', '{', ['webhooks: not JSON']],
    ['a list', '[]', ['webhooks: not an object of users']],
  ])('from %s: none', (_case, text, errors) => {
    expect(parseWebhooks(text)).toEqual({ byUser: new Map(), errors });
  });

  it('leaves out and reports a bad entry, keeping the good ones', () => {
    const { byUser, errors } = parseWebhooks(
      JSON.stringify({
        alice,
        eve: { secretRef: { name: 'api-keys' } },
        mallory: { ...alice, url: 'ftp://x' },
      }),
    );
    expect([...byUser.keys()]).toEqual(['alice']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^webhooks\.eve: .*secretRef\.name/);
    expect(errors[1]).toMatch(/^webhooks\.mallory: .*notify\.url must be an http or https URL/);
  });
});

describe("a submission's notify", () => {
  const secretRef = { name: 'vdl-webhook-alice', key: 'secret' };
  it.each([
    ['no webhook anywhere', undefined, undefined, { notify: undefined }],
    ['a signing Secret, no url anywhere', undefined, { secretRef }, { notify: undefined }],
    [
      "the user's default url",
      undefined,
      { secretRef, url: 'https://hooks.example/default' },
      { notify: { url: 'https://hooks.example/default', secretRef } },
    ],
    [
      "the request's url over the default",
      { url: 'https://hooks.example/this-one' },
      { secretRef, url: 'https://hooks.example/default' },
      { notify: { url: 'https://hooks.example/this-one', secretRef } },
    ],
  ])('%s', (_case, requested, webhook, expected) => {
    expect(submissionNotify(requested, webhook)).toEqual(expected);
  });

  it('refuses a url from a user without a signing Secret, saying how to get one', () => {
    const decided = submissionNotify({ url: 'https://hooks.example/x' }, undefined);
    const refusal = 'refusal' in decided ? decided.refusal : undefined;
    expect(refusal?.status).toBe(403);
    expect(refusal?.message).toContain('no webhook signing Secret');
  });
});
