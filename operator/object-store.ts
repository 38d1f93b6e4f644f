// The operator's only use of object storage: removing a deleted download's
// files when its deletion policy says Delete.
import { Client } from 'minio';

export interface ObjectStore {
  /** Removes every object under prefix; returns how many were removed. */
  removePrefix(bucket: string, prefix: string): Promise<number>;
}

export function s3ObjectStore(
  endpoint: string,
  accessKey: string,
  secretKey: string,
  region: string,
): ObjectStore {
  const url = new URL(endpoint);
  const client = new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey,
    secretKey,
    region,
  });
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
