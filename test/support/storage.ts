// A MinIO client for the local environment's MinIO.
import { Client } from 'minio';
import type { MinioEndpoint } from '../cluster/control-plane.ts';

export function minioClient(endpoint: MinioEndpoint): Client {
  const { endPoint, port, useSSL, accessKey, secretKey } = endpoint;
  return new Client({ endPoint, port, useSSL, accessKey, secretKey });
}

/**
 * Unfinished multipart uploads under a prefix. MinIO lists them only for an
 * exact object name or the whole bucket, so a prefix would find none: the
 * whole bucket is listed and filtered.
 */
export async function incompleteUploads(client: Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const upload of client.listIncompleteUploads(bucket, '', true))
    if (upload.key.startsWith(prefix)) keys.push(upload.key);
  return keys;
}

/** The parts an unfinished multipart upload holds (minio-js keeps its ListParts call protected). */
export async function uploadedParts(client: Client, bucket: string, key: string, uploadId: string) {
  const listing = client as unknown as {
    listParts(bucket: string, key: string, uploadId: string): Promise<Array<{ part: number; size: number }>>;
  };
  return listing.listParts(bucket, key, uploadId);
}
