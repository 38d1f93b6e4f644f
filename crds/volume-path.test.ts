import { describe, expect, it } from 'vitest';
import { VideoDownloadSpec } from './video-download.ts';
import {
  defaultVolumePathTemplate,
  maxSegmentBytes,
  renderVolumePath,
  sanitizedSegment,
  volumePathOutside,
  volumePathRefusal,
} from './volume-path.ts';

const info = {
  id: 'abc123',
  title: 'My Video',
  uploader: 'Some Channel',
  upload_date: '20260314',
  playlist_index: 7,
};

describe('volumePathRefusal', () => {
  it.each([
    defaultVolumePathTemplate,
    '{channel}/{upload_year}/{upload_date} {title}.{ext}',
    'Shows/{series}/Season {season_number}/{series} - S{season_number}E{episode_number}.{ext}',
    'flat [{id}].{ext}',
  ])('takes %s', (template) => {
    expect(volumePathRefusal(template)).toBeUndefined();
  });

  it.each([
    ['/abs/{title}.{ext}', 'must be relative'],
    ['../{title}.{ext}', 'must be relative'],
    ['a//{title}.{ext}', 'must be relative'],
    ['{title}.mp4', 'holding {ext}'],
    ['{ext}/{title}', 'holding {ext}'],
    ['{description}.{ext}', 'names {description}'],
    ['{title}.{ext}}', 'may hold letters'],
    ['a\\b.{ext}', 'may hold letters'],
    ['%(title)s.{ext}', 'may hold letters'],
  ])('refuses %s (%s)', (template, words) => {
    expect(volumePathRefusal(template)).toContain(words);
  });

  it('is what the spec schema says about a volume path', () => {
    const parsed = VideoDownloadSpec.safeParse({
      url: 'https://example.com/v',
      storage: { volume: { claimName: 'media', path: '{title}.mp4' } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('holding {ext}');
  });

  it('refuses a volume together with a bucket or key prefix, and uid or gid 0', () => {
    for (const storage of [
      { bucket: 'other', volume: { claimName: 'media' } },
      { keyPrefix: 'x/', volume: { claimName: 'media' } },
      { volume: { claimName: 'media', uid: 0 } },
      { volume: { claimName: 'media', gid: 0 } },
    ])
      expect(VideoDownloadSpec.safeParse({ url: 'https://example.com/v', storage }).success).toBe(false);
    const ok = VideoDownloadSpec.parse({
      url: 'https://example.com/v',
      storage: { volume: { claimName: 'media' } },
    });
    expect(ok.storage.volume).toEqual({
      claimName: 'media',
      path: defaultVolumePathTemplate,
      uid: 65532,
      gid: 65532,
      fileMode: 0o644,
    });
  });
});

describe('renderVolumePath', () => {
  it('fills the fields from the info JSON and the file extension', () => {
    expect(renderVolumePath(defaultVolumePathTemplate, info, 'mkv')).toBe(
      'Some Channel/My Video [abc123].mkv',
    );
    expect(renderVolumePath('{upload_year}/{upload_month}/{playlist_index} {title}.{ext}', info, 'mp4')).toBe(
      '2026/03/7 My Video.mp4',
    );
  });

  it('writes NA for what the site does not give, as yt-dlp does', () => {
    expect(renderVolumePath('{series}/{title}.{ext}', { title: 'T' }, 'mp4')).toBe('NA/T.mp4');
    expect(renderVolumePath('{upload_year}/{title}.{ext}', { title: 'T', upload_date: 'soon' }, 'mp4')).toBe(
      'NA/T.mp4',
    );
  });

  it('keeps every value one harmless segment: no climbing, no new folders, no hidden files', () => {
    const hostile = { title: '../../etc/passwd', uploader: '..', id: '/root', channel: '.hidden\u0000\n' };
    const path = renderVolumePath('{uploader}/{channel}/{title} [{id}].{ext}', hostile, 'mp4');
    expect(path).toBe('_/hidden/_.._etc_passwd [_root].mp4');
    expect(path.split('/')).toHaveLength(3);
    expect(volumePathOutside(path)).toBeUndefined();
  });

  it('cuts a long segment to what file systems hold, keeping the extension and whole characters', () => {
    const path = renderVolumePath('{title}.{ext}', { title: 'é'.repeat(300) }, 'webm');
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(maxSegmentBytes);
    expect(path.endsWith('.webm')).toBe(true);
    expect(path).not.toContain('\ufffd');
  });

  it('cuts the long value, not the id or the extension beside it', () => {
    const path = renderVolumePath('{title} [{id}].{ext}', { title: 'x'.repeat(400), id: 'abc123' }, 'mp4');
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(maxSegmentBytes);
    expect(path.endsWith(' [abc123].mp4')).toBe(true);
    expect(path.startsWith('xxxx')).toBe(true);
  });

  it('replaces what Windows and SMB shares refuse', () => {
    expect(sanitizedSegment('a:b*c?d"e<f>g|h')).toBe('a_b_c_d_e_f_g_h');
    expect(sanitizedSegment('   ')).toBe('_');
  });
});

describe('volumePathOutside', () => {
  it.each(['/etc/passwd', '../x', 'a/../b', 'a//b', '', 'a\\b'])('refuses %s', (path) => {
    expect(volumePathOutside(path)).toBeDefined();
  });
});
