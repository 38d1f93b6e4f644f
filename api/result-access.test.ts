import { describe, expect, it } from 'vitest';
import {
  type VideoDownload,
  VideoDownloadSpec,
  type VideoDownloadSpecInput,
} from '../crds/video-download.ts';
import { resultRefusal } from './result-access.ts';

function done(
  result: { bucket: string; key: string; infoKey?: string },
  spec: Partial<VideoDownloadSpecInput> = {},
) {
  return {
    apiVersion: 'vdl.dev/v1alpha1',
    kind: 'VideoDownload',
    metadata: { name: 'dl-1', namespace: 'vdl', uid: 'u-1' },
    spec: VideoDownloadSpec.parse({ url: 'https://example.com/v', ...spec }),
    status: {
      phase: 'Succeeded',
      result: { ...result, size: 1, sha256: 'a'.repeat(64), contentType: 'video/mp4' },
    },
  } satisfies VideoDownload;
}

describe('resultRefusal', () => {
  it.each([
    ['its own file in the default bucket', done({ bucket: 'vdl', key: 'vdl/dl-1/u-1/v.mp4' }), undefined],
    [
      'its own file under its spec bucket and prefix',
      done(
        { bucket: 'media', key: 'team/vdl/dl-1/u-1/v.mp4' },
        { storage: { bucket: 'media', keyPrefix: 'team/' } },
      ),
      undefined,
    ],
    ['another bucket', done({ bucket: 'private', key: 'vdl/dl-1/u-1/v.mp4' }), /bucket private/],
    [
      "the spec's bucket ignored",
      done(
        { bucket: 'vdl', key: 'team/vdl/dl-1/u-1/v.mp4' },
        { storage: { bucket: 'media', keyPrefix: 'team/' } },
      ),
      /bucket vdl, not media/,
    ],
    [
      "another user's download",
      done({ bucket: 'vdl', key: 'vdl/dl-2/u-2/secret.mp4' }),
      /outside vdl\/dl-1\/u-1\//,
    ],
    ['an older download of the same name', done({ bucket: 'vdl', key: 'vdl/dl-1/u-0/v.mp4' }), /outside/],
    ['a climb out with ..', done({ bucket: 'vdl', key: 'vdl/dl-1/u-1/../../dl-2/u-2/x' }), /outside/],
    [
      'an info key elsewhere',
      done({ bucket: 'vdl', key: 'vdl/dl-1/u-1/v.mp4', infoKey: 'other/info.json' }),
      /outside/,
    ],
  ])('%s', (_name, download, refusal) => {
    const reason = resultRefusal(download, 'vdl');
    if (refusal === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(refusal);
  });

  it('refuses a download without a recorded result', () => {
    const download = done({ bucket: 'vdl', key: 'vdl/dl-1/u-1/v.mp4' });
    expect(resultRefusal({ ...download, status: { phase: 'Succeeded' } }, 'vdl')).toBe(
      'no result is recorded',
    );
  });
});
