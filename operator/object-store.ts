// The operator's only use of object storage: removing a deleted download's
// files when its deletion policy says Delete.
import { Client } from 'minio';

export interface ObjectStore {
  /** Removes every object under prefix; returns how many were removed. */
  removePrefix(bucket: string, prefix: string): Promise<number>;
}

export interface S3Endpoint {
  /** http(s)://host[:port] */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Known region: presigning stays offline (no bucket-location request). */
  region: string;
}

/** One way for operator, API and downloader to reach S3-compatible storage from an endpoint URL. */
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

export function s3ObjectStore(
  endpoint: string,
  accessKey: string,
  secretKey: string,
  region: string,
): ObjectStore {
  const client = s3ClientFor({ endpoint, accessKey, secretKey, region });
  return {
    async removePrefix(bucket, prefix) {
      const names: string[] = [];
      for await (const item of client.listObjectsV2(bucket, prefix, true)) {
        if (item.name) names.push(item.name);
      }
      if (names.length > 0) await client.removeObjects(bucket, names);
      return names.length;
    },
  };
}
