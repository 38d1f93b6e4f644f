import { describe, expect, it } from 'vitest';
import { resultOutside } from './storage-location.ts';

const own = { bucket: 'vdl', prefix: 'team/clip/uid-1/' };

describe('resultOutside', () => {
  it.each([
    ['its own file', { bucket: 'vdl', key: 'team/clip/uid-1/clip.mp4' }, false],
    [
      'with its info JSON',
      { bucket: 'vdl', key: 'team/clip/uid-1/a.mp4', infoKey: 'team/clip/uid-1/info.json' },
      false,
    ],
    ['another bucket', { bucket: 'other', key: 'team/clip/uid-1/clip.mp4' }, true],
    ["another download's key", { bucket: 'vdl', key: 'team/other/uid-2/x.mp4' }, true],
    ['an older download of the same name', { bucket: 'vdl', key: 'team/clip/uid-0/clip.mp4' }, true],
    ['a prefix that only starts alike', { bucket: 'vdl', key: 'team/clip/uid-10/clip.mp4' }, true],
    ['climbing out with ..', { bucket: 'vdl', key: 'team/clip/uid-1/../../other/uid-2/x.mp4' }, true],
    ['the prefix itself', { bucket: 'vdl', key: 'team/clip/uid-1/' }, true],
    [
      'an info key elsewhere',
      { bucket: 'vdl', key: 'team/clip/uid-1/a.mp4', infoKey: 'secret/info.json' },
      true,
    ],
  ])('%s', (_name, result, outside) => {
    expect(resultOutside(result, own) !== undefined).toBe(outside);
  });
});
