// The operator's use of object storage, the only program holding its
// credentials besides the API: preparing each download's multipart uploads
// (presigned for the pod) and removing a download's files and unfinished
// uploads, and checking that a file a download pod reports is stored.
import { Client } from 'minio';
import { presignerFor, type S3Endpoint } from './presign.ts';

export type { S3Endpoint };

export interface ObjectStore {
  /**
   * Removes every object under prefix and every unfinished multipart upload
   * under it or of one of keys; returns how many.
   */
  removePrefix(bucket: string, prefix: string, keys: string[]): Promise<number>;
  /** Aborts every unfinished multipart upload under prefix or of one of keys; returns how many. */
  abortIncompleteUploads(bucket: string, prefix: string, keys: string[]): Promise<number>;
  /** CreateMultipartUpload (making the bucket when it is missing); returns the upload id. */
  createUpload(bucket: string, key: string, headers: Record<string, string>): Promise<string>;
  abortUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /** The stored object's size; undefined when there is no such object (or bucket). */
  statObject(bucket: string, key: string): Promise<{ size: number } | undefined>;
  /** A SigV4 query-signed request, offline (the region is configured). */
  presign(
    method: 'PUT' | 'POST' | 'DELETE',
    bucket: string,
    key: string,
    expirySeconds: number,
    query: Record<string, string>,
  ): Promise<string>;
}

/** One way for operator and API to reach S3-compatible storage from an endpoint URL. */
export function s3ClientFor(target: S3Endpoint, partSize?: number): Client {
  const url = new URL(target.endpoint);
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: target.accessKey,
    secretKey: target.secretKey,
    region: target.region,
    ...(partSize ? { partSize } : {}),
  });
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}

export function s3ObjectStore(
  endpoint: string,
  accessKey: string,
  secretKey: string,
  region: string,
): ObjectStore {
  const client = s3ClientFor({ endpoint, accessKey, secretKey, region });
  const presigner = presignerFor({ endpoint, region, accessKey, secretKey });
  const abortIncompleteUploads = async (bucket: string, prefix: string, keys: string[]) => {
    const uploads = new Map<string, string>();
    // MinIO lists unfinished uploads only for an exact object name (S3 for any
    // prefix): the keys the operator made uploads for are asked for one by one.
    for (const listed of [prefix, ...keys])
      for await (const upload of client.listIncompleteUploads(bucket, listed, true))
        if (upload.key.startsWith(prefix)) uploads.set(upload.uploadId, upload.key);
    for (const [uploadId, key] of uploads)
      await client.abortMultipartUpload(bucket, key, uploadId).catch((error: unknown) => {
        // Completed or aborted meanwhile: gone either way.
        if (codeOf(error) !== 'NoSuchUpload') throw error;
      });
    return uploads.size;
  };
  return {
    async removePrefix(bucket, prefix, keys) {
      // Uploads first: a part landing while objects are removed must not outlive them.
      const aborted = await abortIncompleteUploads(bucket, prefix, keys);
      const names: string[] = [];
      for await (const item of client.listObjectsV2(bucket, prefix, true)) {
        if (item.name) names.push(item.name);
      }
      if (names.length > 0) await client.removeObjects(bucket, names);
      return aborted + names.length;
    },
    abortIncompleteUploads,
    async createUpload(bucket, key, headers) {
      try {
        return await client.initiateNewMultipartUpload(bucket, key, headers);
      } catch (error) {
        if (codeOf(error) !== 'NoSuchBucket') throw error;
        // A fresh MinIO has no bucket yet.
        await client.makeBucket(bucket, region).catch((made: unknown) => {
          if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(codeOf(made) ?? '')) throw made;
        });
        return await client.initiateNewMultipartUpload(bucket, key, headers);
      }
    },
    async abortUpload(bucket, key, uploadId) {
      await client.abortMultipartUpload(bucket, key, uploadId).catch((error: unknown) => {
        if (codeOf(error) !== 'NoSuchUpload') throw error;
      });
    },
    async statObject(bucket, key) {
      try {
        const { size } = await client.statObject(bucket, key);
        return { size };
      } catch (error) {
        if (['NotFound', 'NoSuchKey', 'NoSuchBucket'].includes(codeOf(error) ?? '')) return undefined;
        throw error;
      }
    },
    async presign(method, bucket, key, expirySeconds, query) {
      return presigner(method, bucket, key, expirySeconds, query);
    },
  };
}
