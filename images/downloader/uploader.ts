// Streams a finished file to S3-compatible storage as a multipart upload,
// hashing it on the way, and leaves no partial object behind on failure.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from 'minio';
import { s3ClientFor } from '../../operator/object-store.ts';

export interface S3Target {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
}

export function s3Client(target: S3Target): Client {
  // 16 MiB parts: fewer requests for large videos, bounded memory per part.
  return s3ClientFor(target, 16 * 1024 * 1024);
}

export interface UploadResult {
  size: number;
  sha256: string;
}

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
]);

export function isTransientS3Error(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code !== undefined && transientCodes.has(code);
}

/** One attempt: stream, hash, and on failure remove the incomplete multipart upload. */
async function uploadOnce(
  client: Client,
  bucket: string,
  key: string,
  file: string,
  metadata: Record<string, string>,
  onProgress: (sent: number, total: number) => void,
): Promise<UploadResult> {
  const { size } = await stat(file);
  const hash = createHash('sha256');
  let sent = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sent += chunk.length;
      onProgress(sent, size);
      callback(null, chunk);
    },
  });
  try {
    await client.putObject(bucket, key, createReadStream(file).pipe(meter), size, metadata);
  } catch (error) {
    // An unfinished multipart upload is invisible to readers but keeps its parts: drop them.
    await client.removeIncompleteUpload(bucket, key).catch(() => {});
    throw error;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Creates the bucket when it is missing (a fresh MinIO has none). */
export async function ensureBucket(client: Client, bucket: string, region: string): Promise<void> {
  if (await client.bucketExists(bucket)) return;
  try {
    await client.makeBucket(bucket, region);
  } catch (error) {
    // Another download made it first.
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((error as { code?: string }).code ?? ''))
      throw error;
  }
}

/** Uploads with retries of transient errors (1 s, 2 s, 4 s, ...). */
export async function uploadFile(
  client: Client,
  bucket: string,
  key: string,
  file: string,
  metadata: Record<string, string>,
  onProgress: (sent: number, total: number) => void,
  retries = 4,
): Promise<UploadResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await uploadOnce(client, bucket, key, file, metadata, onProgress);
    } catch (error) {
      if (attempt >= retries || !isTransientS3Error(error)) throw error;
      await delay(1000 * 2 ** attempt);
    }
  }
}
