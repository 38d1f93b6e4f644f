// What the API does with object storage: ask whether a download's file is
// still stored (a HEAD it signs and sends itself) and sign links for clients
// to fetch it (offline). Two requests need no S3 SDK: loading minio-js costs
// a Node program about 40 MiB of memory (its dependencies, lodash among
// them), a quarter of the API's budget.
import { presignerFor, type S3Endpoint } from './presign.ts';

export interface ObjectReader {
  /** The stored object's size; undefined when there is no such object (or bucket). */
  statObject(bucket: string, key: string): Promise<{ size: number } | undefined>;
  /** A link that fetches the object until it expires, with response-* overrides in query. */
  presignGet(bucket: string, key: string, expirySeconds: number, query: Record<string, string>): string;
}

export class StorageUnreachable extends Error {}

/**
 * Reads through `internal` (where this program reaches storage); links are
 * signed for `forClients` when clients reach storage at another address.
 */
export function objectReaderFor(
  internal: S3Endpoint,
  forClients: S3Endpoint = internal,
  timeoutMs = 10_000,
): ObjectReader {
  const signInternal = presignerFor(internal);
  const signForClients = presignerFor(forClients);
  return {
    async statObject(bucket, key) {
      const url = signInternal('HEAD', bucket, key, 60, {});
      let response: Response;
      try {
        response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new StorageUnreachable(`object storage unreachable: ${(error as Error).message}`);
      }
      if (response.status === 404) return undefined;
      if (!response.ok) throw new StorageUnreachable(`object storage answered ${response.status} to HEAD`);
      return { size: Number(response.headers.get('content-length') ?? 0) };
    },
    presignGet(bucket, key, expirySeconds, query) {
      return signForClients('GET', bucket, key, expirySeconds, query);
    },
  };
}
