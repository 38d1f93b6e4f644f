import { Client } from 'minio';
import { describe, expect, it } from 'vitest';
import { presignerFor } from './presign.ts';

const target = {
  endpoint: 'http://127.0.0.1:9000',
  region: 'us-east-1',
  accessKey: 'vdl-0123456789ab',
  secretKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
};
// minio-js, the reference: its presigned URLs are what MinIO and S3 accept.
const reference = new Client({
  endPoint: '127.0.0.1',
  port: 9000,
  useSSL: false,
  accessKey: target.accessKey,
  secretKey: target.secretKey,
  region: target.region,
});

describe('presignerFor', () => {
  const presign = presignerFor(target);
  it.each([
    ['PUT', 'team/clip/uid/file', { partNumber: '1', uploadId: 'abc-DEF_123' }],
    ['PUT', 'team/clip/uid/file', { partNumber: '200', uploadId: 'MjAyNi8xMi8wMQ==' }],
    ['POST', 'team/clip/uid/info.json', { uploadId: 'u' }],
    ['DELETE', 'videos/team/a b(1)!/uid/file', { uploadId: 'u*1' }],
    ['GET', 'team/clip/uid/file', {}],
  ])('%s %s %j: the same URL as minio-js', async (method, key, query) => {
    const date = new Date('2026-12-01T18:30:05.123Z');
    expect(presign(method, 'vdl', key, 3900, query, date)).toBe(
      await reference.presignedUrl(method, 'vdl', key, 3900, query, date),
    );
  });

  it('builds what one second, expiry and key share once, and again when any of them changes', async () => {
    const calls: Array<[string, number, Date]> = [
      ['team/a/uid/file', 3900, new Date('2026-12-01T18:30:05.100Z')],
      ['team/a/uid/file', 3900, new Date('2026-12-01T18:30:05.900Z')],
      ['team/a/uid/file', 3900, new Date('2026-12-01T18:30:06.000Z')],
      ['team/a/uid/file', 60, new Date('2026-12-01T18:30:06.000Z')],
      ['team/b/uid/file', 60, new Date('2026-12-01T18:30:06.000Z')],
    ];
    for (const [key, expiry, date] of calls)
      expect(presign('PUT', 'vdl', key, expiry, { partNumber: '3', uploadId: 'u' }, date)).toBe(
        await reference.presignedUrl('PUT', 'vdl', key, expiry, { partNumber: '3', uploadId: 'u' }, date),
      );
  });

  it('keeps the signing key across calls of one day, and changes it the next day', async () => {
    const days = [new Date('2026-12-01T23:59:59Z'), new Date('2026-12-02T00:00:01Z')];
    for (const date of [...days, ...days])
      expect(presign('PUT', 'vdl', 'k', 60, { uploadId: 'u' }, date)).toBe(
        await reference.presignedUrl('PUT', 'vdl', 'k', 60, { uploadId: 'u' }, date),
      );
  });
});
