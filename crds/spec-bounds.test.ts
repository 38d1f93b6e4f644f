// Specs that cannot succeed, or that another parser would read apart, are
// refused by the schema itself (so by the CRD and the API alike), naming the field.
import { describe, expect, it } from 'vitest';
import { maxTtlSeconds, VideoDownloadSpec } from './video-download.ts';

const url = 'https://videos.example/v';

describe('VideoDownloadSpec bounds', () => {
  it.each([
    ['a TTL over 30 days', { url, ttlSecondsAfterFinished: 3_000_000 }, 'ttlSecondsAfterFinished'],
    ['a backslash in the URL', { url: 'http://example.com\\@127.0.0.1:18777/clip.mp4' }, 'url'],
    ['a NUL byte in the URL', { url: 'http://videos.example/a\u0000b' }, 'url'],
    ['a tab in the URL', { url: 'http://videos.example/a\tb' }, 'url'],
    ['a newline in the host', { url: 'http://videos.exam\nple/' }, 'url'],
    ['a DEL in the URL', { url: 'http://videos.example/\u007f' }, 'url'],
    ['a C1 control in the URL', { url: 'http://videos.example/\u0085' }, 'url'],
    ['a maxFileSize of 400 digits', { url, limits: { maxFileSize: '9'.repeat(400) } }, 'limits.maxFileSize'],
    ['a rateLimit of 1000Ti', { url, limits: { rateLimit: '1000Ti' } }, 'limits.rateLimit'],
    ['a keyPrefix of ../', { url, storage: { keyPrefix: '../' } }, 'storage.keyPrefix'],
    ['a keyPrefix climbing out', { url, storage: { keyPrefix: 'team/../../' } }, 'storage.keyPrefix'],
    ['a keyPrefix of ./', { url, storage: { keyPrefix: './' } }, 'storage.keyPrefix'],
    ['a keyPrefix with a leading /', { url, storage: { keyPrefix: '/team/' } }, 'storage.keyPrefix'],
    ['a keyPrefix with an empty segment', { url, storage: { keyPrefix: 'team//' } }, 'storage.keyPrefix'],
    [
      'a clip that ends before it starts',
      { url, clip: { startSeconds: 10, endSeconds: 4 } },
      'clip.endSeconds',
    ],
    ['a clip of no length', { url, clip: { startSeconds: 4, endSeconds: 4 } }, 'clip.endSeconds'],
    ['a clip ending after a week', { url, clip: { endSeconds: 700_000 } }, 'clip.endSeconds'],
    [
      'a cover in WebM',
      { url, embed: { thumbnail: true }, output: { container: 'webm' } },
      'embed.thumbnail',
    ],
    [
      'a cover in wav',
      { url, embed: { thumbnail: true }, audio: { extract: true, format: 'wav' } },
      'embed.thumbnail',
    ],
  ])('refuses %s, naming the field', (_what, spec, field) => {
    const parsed = VideoDownloadSpec.safeParse(spec);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual([field]);
    expect(parsed.error?.issues[0]?.message).toContain(field.split('.').at(-1));
  });

  it.each([
    ['the longest TTL', { url, ttlSecondsAfterFinished: maxTtlSeconds }],
    ['a URL with spaces and unicode (percent-encoded later)', { url: 'https://videos.example/a b/é' }],
    ['a keyPrefix of folders with dots inside', { url, storage: { keyPrefix: 'team-a/v1.2/' } }],
    ['the largest sizes', { url, limits: { maxFileSize: '999.999Ti', rateLimit: '999999999999999' } }],
    ['a clip from the start', { url, clip: { endSeconds: 2.5 } }],
    ['a cover in a chosen mp4', { url, embed: { thumbnail: true }, output: { container: 'mp4' } }],
    ['a cover in mp3', { url, embed: { thumbnail: true }, audio: { extract: true, format: 'mp3' } }],
  ])('accepts %s', (_what, spec) => {
    expect(VideoDownloadSpec.safeParse(spec).error).toBeUndefined();
  });

  it('refuses a SponsorBlock category that cannot be cut, naming the list and what it holds', () => {
    const parsed = VideoDownloadSpec.safeParse({ url, sponsorBlock: { remove: ['sponsor', 'chapter'] } });
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['sponsorBlock.remove.1']);
    expect(parsed.error?.issues[0]?.message).toMatch(/^sponsorBlock.remove holds sponsor, intro/);
  });
});
