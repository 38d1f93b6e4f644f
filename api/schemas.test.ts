import { describe, expect, it } from 'vitest';
import { DownloadRequest, downloadRequest, kubectlOnlyRefusal } from './schemas.ts';

describe('what only kubectl users may set', () => {
  it.each([
    [{ url: 'https://v.example/', storage: { bucket: 'someone-elses' } }, 'storage'],
    [{ url: 'https://v.example/', storage: { deletionPolicy: 'Retain' } }, 'storage'],
    [{ url: 'https://v.example/', storage: { keyPrefix: '../' } }, 'storage'],
    [{ url: 'https://v.example/', storage: {} }, 'storage'],
    [{ url: 'https://v.example/', cookies: { secretName: 'vdl-cookies-bob' } }, 'cookies'],
  ])('refuses %j, naming %s', (body, field) => {
    expect(kubectlOnlyRefusal(body)).toMatch(new RegExp(`^${field}: only kubectl users may set ${field}`));
    expect(DownloadRequest.safeParse(body).success).toBe(false);
  });

  it.each([{ url: 'https://v.example/' }, null, 'text', [{ storage: {} }]])(
    'lets %j through to the schema',
    (body) => {
      expect(kubectlOnlyRefusal(body)).toBeUndefined();
    },
  );
});

describe('the URL as written and as kept', () => {
  const host = 'https://videos.example';
  it('bounds the URL as written, and keeps its canonical form even where that is longer', () => {
    const written = `${host}?${"'".repeat(2048 - host.length - 1)}`;
    expect(written).toHaveLength(2048);
    const parsed = DownloadRequest.safeParse({ url: written });
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.url).toBe(`${host}/?${'%27'.repeat(2048 - host.length - 1)}`);
    const tooLong = DownloadRequest.safeParse({ url: `${host}/${'a'.repeat(2048)}` });
    expect(tooLong.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['url']);
  });

  it('follows the configured length, and refuses a canonical form over its bound', () => {
    expect(downloadRequest(100).safeParse({ url: `${host}/${'a'.repeat(100)}` }).success).toBe(false);
    const encoded = downloadRequest(2048).safeParse({ url: `${host}/${'€'.repeat(1000)}` });
    expect(encoded.error?.issues[0]?.message).toMatch(/url is longer than 8192 characters once encoded/);
  });
});

describe('notify in a request', () => {
  it('takes a url, made canonical', () => {
    expect(
      DownloadRequest.parse({ url: 'https://e.com/v', notify: { url: 'HTTPS://Hooks.E.com/h' } }).notify,
    ).toEqual({
      url: 'https://hooks.e.com/h',
    });
  });

  it('says which url is wrong', () => {
    const parsed = DownloadRequest.safeParse({
      url: 'https://e.com/v',
      notify: { url: 'ftp://hooks.e.com/h' },
    });
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['notify', 'url'],
      message: 'notify.url must be an http or https URL',
    });
  });

  it('refuses a signing Secret named by the request', () => {
    expect(
      kubectlOnlyRefusal({
        url: 'https://e.com/v',
        notify: { url: 'https://h.e.com/', secretRef: { name: 'vdl-webhook-bob' } },
      }),
    ).toMatch(/^notify\.secretRef: only kubectl users may name a signing Secret/);
  });
});

describe('checks across fields', () => {
  it('refuses what the API server would refuse, naming the field and why', () => {
    const parsed = DownloadRequest.safeParse({
      url: 'https://v.example/',
      embed: { thumbnail: true },
      output: { container: 'webm' },
    });
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['embed.thumbnail']);
    expect(parsed.error?.issues[0]?.message).toMatch(/^embed.thumbnail: a WebM file cannot hold a thumbnail/);
  });

  it('lets a cover through where the file can hold one', () => {
    const body = { url: 'https://v.example/', embed: { thumbnail: true }, output: { container: 'mkv' } };
    expect(DownloadRequest.safeParse(body).error).toBeUndefined();
  });
});
