import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { VideoDownloadsError } from './video-downloads.ts';

describe('VideoDownloadsError', () => {
  const status = { kind: 'Status', reason: 'Invalid', code: 422 };
  it.each([
    ['an API server refusal', new ApiException(422, 'Unprocessable', status, {}), 422, status, /HTTP 422/],
    [
      'a watch-style status code',
      Object.assign(new Error('gone'), { statusCode: 410 }),
      410,
      undefined,
      /HTTP 410/,
    ],
    [
      'no answer at all',
      new Error('connect ECONNREFUSED 127.0.0.1:6443'),
      undefined,
      undefined,
      /no answer.*ECONNREFUSED/,
    ],
  ])('keeps the code and Status of %s, and names the call', (_what, error, code, body, message) => {
    const mapped = new VideoDownloadsError('create VideoDownload ns/dl-1', error);
    expect(mapped).toMatchObject({ code, body, cause: error });
    expect(mapped.message).toMatch(/^create VideoDownload ns\/dl-1: /);
    expect(mapped.message).toMatch(message);
  });
});
