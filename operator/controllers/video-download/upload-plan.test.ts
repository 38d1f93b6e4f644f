import { describe, expect, it } from 'vitest';
import { UploadPlan } from '../../../crds/upload-plan.ts';
import { downloadLabelValue } from './names.ts';
import { download } from './test-fixtures.ts';
import {
  maximumPresignSeconds,
  minimumPartSize,
  partCountFor,
  partSizeFor,
  presignSecondsFor,
  uploadKeysFor,
  uploadSecret,
} from './upload-plan.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('partSizeFor and partCountFor', () => {
  it.each([
    // max file size, configured minimum, part size, parts
    [50 * MiB, 8 * MiB, 8 * MiB, 7],
    [4 * GiB, 8 * MiB, Math.ceil((4 * GiB) / 200), 200],
    [1 * MiB, 8 * MiB, 8 * MiB, 1],
    [0, 8 * MiB, 8 * MiB, 1],
    // S3 refuses parts under 5 MiB, whatever is configured.
    [12 * MiB, 1 * MiB, minimumPartSize, 3],
    [1000 * GiB, 8 * MiB, Math.ceil((1000 * GiB) / 200), 200],
    // S3 refuses parts over 5 GiB: more of them beyond 1000 GiB.
    [1024 * GiB, 8 * MiB, 5 * GiB, 205],
  ])('%i bytes at most, minimum %i: parts of %i bytes, %i of them', (max, minimum, size, count) => {
    expect(partSizeFor(max, minimum)).toBe(size);
    expect(partCountFor(max, partSizeFor(max, minimum))).toBe(count);
    // Enough parts for a file of exactly the limit.
    expect(size * count).toBeGreaterThanOrEqual(max);
  });

  it('refuses more parts than S3 allows', () => {
    expect(() => partCountFor(10_001 * minimumPartSize, minimumPartSize)).toThrow(/10000/);
  });
});

describe('presignSecondsFor', () => {
  it.each([
    [3600, 3900],
    [30, 330],
    [maximumPresignSeconds, maximumPresignSeconds],
    [30 * 24 * 3600, maximumPresignSeconds],
  ])('a deadline of %i s: requests valid %i s', (deadline, seconds) => {
    expect(presignSecondsFor(deadline)).toBe(seconds);
  });
});

describe('uploadSecret', () => {
  const plan = UploadPlan.parse({
    bucket: 'vdl',
    file: {
      key: 'team/clip/uid-clip/file',
      partSize: 8 * MiB,
      parts: ['http://minio:9000/vdl/team/clip/uid-clip/file?partNumber=1&uploadId=u1'],
      complete: 'http://minio:9000/vdl/team/clip/uid-clip/file?uploadId=u1',
      abort: 'http://minio:9000/vdl/team/clip/uid-clip/file?uploadId=u1',
    },
    info: {
      key: 'team/clip/uid-clip/info.json',
      partSize: 8 * MiB,
      parts: ['http://minio:9000/vdl/team/clip/uid-clip/info.json?partNumber=1&uploadId=u2'],
      complete: 'http://minio:9000/vdl/team/clip/uid-clip/info.json?uploadId=u2',
      abort: 'http://minio:9000/vdl/team/clip/uid-clip/info.json?uploadId=u2',
    },
    expiresAt: '2026-01-01T01:05:00.000Z',
  });
  const secret = uploadSecret(download('clip'), { name: 'clip', uid: 'job-uid' }, plan);

  it('is owned by the Job, so it goes when the Job goes', () => {
    expect(secret.metadata?.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'clip', uid: 'job-uid' },
    ]);
    expect(secret.metadata).toMatchObject({ name: 'vdl-upload-uid-clip', namespace: 'team' });
  });

  it("labels a download of a name longer than a label value with the Job's hashed label", () => {
    const name = `long-${'n'.repeat(70)}`;
    const long = uploadSecret(download(name), { name: 'j', uid: 'job-uid' }, plan);
    expect(long.metadata?.labels?.['vdl.dev/download']).toHaveLength(63);
    expect(long.metadata?.labels?.['vdl.dev/download']).toBe(downloadLabelValue(name));
  });

  it('holds the plan as one file the downloader parses back', () => {
    expect(UploadPlan.parse(JSON.parse(secret.stringData?.['upload-plan.json'] as string))).toEqual(plan);
  });

  it('uses fixed keys under the download prefix', () => {
    expect(uploadKeysFor('team/clip/uid-clip/')).toEqual({
      file: 'team/clip/uid-clip/file',
      info: 'team/clip/uid-clip/info.json',
    });
  });
});
