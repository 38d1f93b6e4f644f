import { describe, expect, it } from 'vitest';
import { permanentFailureExitCode } from '../../crds/video-download.ts';
import { classifyFailure, errorLine, exitCodeFor, stopsAtOnce } from './failure.ts';

describe('classifyFailure', () => {
  it.each([
    ['ERROR: Unsupported URL: https://example.com/', 'UnsupportedURL', true],
    ['ERROR: [generic] x: Unable to download webpage: HTTP Error 404: Not Found', 'NotFound', true],
    ["ERROR: [youtube] abc: Private video. Sign in if you've been granted access", 'VideoPrivate', true],
    [
      'ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader',
      'VideoUnavailable',
      true,
    ],
    ['[download] File is larger than max-filesize (5 bytes > 1 bytes). Aborting.', 'FileTooLarge', true],
    ['ERROR: Requested format is not available', 'FormatUnavailable', true],
    ["ERROR: '/work/cookies.txt' does not look like a Netscape format cookies file", 'InvalidCookies', true],
    ['ERROR: Unable to download webpage: HTTP Error 503: Service Unavailable', 'DownloadFailed', false],
    ['ERROR: something nobody has seen before', 'DownloadFailed', false],
    ['[download] live does not pass filter (!is_live), skipping ..', 'LiveStream', true],
    [
      'ERROR: Postprocessing: Supported filetypes for thumbnail embedding are: mp3, mkv/mka, ogg/opus/flac, m4a/mp4/m4v/mov',
      'ThumbnailNotEmbeddable',
      true,
    ],
    [
      'ERROR: Preprocessing: Unable to communicate with SponsorBlock API: HTTP Error 503: Service Unavailable. Retrying (3/3)...',
      'SponsorBlockUnavailable',
      false,
    ],
  ])('%s → %s', (output, reason, permanent) => {
    expect(classifyFailure(`WARNING: noise\n${output}\n`, [])).toMatchObject({ reason, permanent });
  });

  it('names a refused destination before anything yt-dlp said', () => {
    expect(classifyFailure('ERROR: HTTP Error 403: Forbidden', ['127.0.0.1:22 refused: loopback'])).toEqual({
      reason: 'ForbiddenAddress',
      message: '127.0.0.1:22 refused: loopback',
      permanent: true,
    });
  });

  it('says how to record a refused live stream', () => {
    expect(classifyFailure('[download] x does not pass filter (!is_live), skipping ..', []).message).toMatch(
      /spec\.live/,
    );
  });

  it('exits so that the Job fails at once only for permanent failures', () => {
    expect(exitCodeFor({ reason: 'X', message: '', permanent: true })).toBe(permanentFailureExitCode);
    expect(exitCodeFor({ reason: 'X', message: '', permanent: false })).toBe(1);
  });

  it('keeps one line for a person', () => {
    expect(errorLine('a\nERROR: first\nERROR: second\ntrailing')).toBe('second');
    expect(errorLine('')).toBe('yt-dlp failed without a message');
  });
});

describe('stopsAtOnce', () => {
  it('stops yt-dlp at an error of a step before the download, which it would download past', () => {
    expect(stopsAtOnce('ERROR: Preprocessing: Unable to communicate with SponsorBlock API: refused')).toBe(
      true,
    );
    expect(
      stopsAtOnce('WARNING: Unable to communicate with SponsorBlock API: refused. Retrying (1/3)...'),
    ).toBe(false);
    expect(stopsAtOnce('ERROR: Postprocessing: Conversion failed!')).toBe(false);
  });
});
