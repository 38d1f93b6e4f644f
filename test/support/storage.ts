// A MinIO client for the local environment's MinIO.
import { Client } from 'minio';
import type { MinioEndpoint } from '../cluster/control-plane.ts';

export function minioClient(endpoint: MinioEndpoint): Client {
  const { endPoint, port, useSSL, accessKey, secretKey } = endpoint;
  return new Client({ endPoint, port, useSSL, accessKey, secretKey });
}
