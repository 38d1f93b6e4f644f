// Each download's storage access, prepared by the operator: two multipart
// uploads under the download's own prefix (its file and its info JSON) and
// every request the pod may make for them, presigned until the Job's
// deadline. The pod gets this plan in a Secret of its own, never a credential.
import type { V1Secret } from '@kubernetes/client-node';
import { quantityBytes } from '../../../crds/quantity.ts';
import { type PresignedUpload, type UploadPlan, uploadPlanFile } from '../../../crds/upload-plan.ts';
import type { VideoDownload } from '../../../crds/video-download.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import { downloadLabelValue } from './names.ts';

const mebibyte = 2 ** 20;
/** S3 refuses parts under 5 MiB but the last. */
export const minimumPartSize = 5 * mebibyte;
/** S3 refuses parts over 5 GiB. */
const maximumPartSize = 5 * 2 ** 30;
/** The most parts S3 allows in one upload. */
const maximumParts = 10_000;
/** SigV4 query signatures last at most this long. */
export const maximumPresignSeconds = 7 * 24 * 3600;

/**
 * A part size that keeps the number of presigned part URLs small (about
 * 200 at the size limit), never under the configured minimum.
 */
export function partSizeFor(maxFileSize: number, minimum: number): number {
  return Math.min(maximumPartSize, Math.max(minimum, minimumPartSize, Math.ceil(maxFileSize / 200)));
}

/** How many parts a file of up to maxFileSize bytes needs (at least one, for an empty file). */
export function partCountFor(maxFileSize: number, partSize: number): number {
  const count = Math.max(1, Math.ceil(maxFileSize / partSize));
  if (count > maximumParts) throw new Error(`${count} parts of ${partSize} bytes: over S3's ${maximumParts}`);
  return count;
}

/** The presigned requests live as long as the Job may run, and a little longer for its last request. */
export function presignSecondsFor(deadlineSeconds: number): number {
  return Math.min(maximumPresignSeconds, deadlineSeconds + 300);
}

/** Fixed keys: the user-visible file name is only known after yt-dlp ran; it goes to status.result. */
export function uploadKeysFor(prefix: string): { file: string; info: string } {
  return { file: `${prefix}file`, info: `${prefix}info.json` };
}

export function uploadSecretNameFor(download: VideoDownload): string {
  return `vdl-upload-${download.metadata.uid}`;
}

export interface UploadRequest {
  bucket: string;
  prefix: string;
  maxFileSize: string;
  minimumPartSize: number;
  deadlineSeconds: number;
  sourceUrl: string;
  now: Date;
}

async function presignedUpload(
  store: ObjectStore,
  bucket: string,
  key: string,
  parts: number,
  partSize: number,
  seconds: number,
  headers: Record<string, string>,
): Promise<PresignedUpload> {
  const uploadId = await store.createUpload(bucket, key, headers);
  try {
    return {
      key,
      partSize,
      parts: await Promise.all(
        Array.from({ length: parts }, (_, i) =>
          store.presign('PUT', bucket, key, seconds, { partNumber: String(i + 1), uploadId }),
        ),
      ),
      complete: await store.presign('POST', bucket, key, seconds, { uploadId }),
      abort: await store.presign('DELETE', bucket, key, seconds, { uploadId }),
    };
  } catch (error) {
    await store.abortUpload(bucket, key, uploadId).catch(() => {});
    throw error;
  }
}

/** Creates the download's uploads and presigns what the pod needs for them. */
export async function prepareUploadPlan(store: ObjectStore, request: UploadRequest): Promise<UploadPlan> {
  const maxFileSize = quantityBytes(request.maxFileSize);
  const partSize = partSizeFor(maxFileSize, request.minimumPartSize);
  const seconds = presignSecondsFor(request.deadlineSeconds);
  const keys = uploadKeysFor(request.prefix);
  const metadata = { 'X-Amz-Meta-Source-Url': encodeURIComponent(request.sourceUrl).slice(0, 1024) };
  const file = await presignedUpload(
    store,
    request.bucket,
    keys.file,
    partCountFor(maxFileSize, partSize),
    partSize,
    seconds,
    metadata,
  );
  try {
    // The info JSON is a multipart upload of one part too, so no request in the plan writes anything once both are completed.
    const info = await presignedUpload(store, request.bucket, keys.info, 1, maximumPartSize, seconds, {
      'Content-Type': 'application/json',
    });
    return {
      bucket: request.bucket,
      file,
      info,
      expiresAt: new Date(request.now.getTime() + seconds * 1000).toISOString(),
    };
  } catch (error) {
    await store.abortUpload(request.bucket, keys.file, uploadIdOf(file.abort)).catch(() => {});
    throw error;
  }
}

/** The upload id a presigned request is for. */
export function uploadIdOf(presignedUrl: string): string {
  return new URL(presignedUrl).searchParams.get('uploadId') ?? '';
}

/** The plan as a Secret owned by the download's Job, so it goes with the Job. */
export function uploadSecret(
  download: VideoDownload,
  job: { name: string; uid: string },
  plan: UploadPlan,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: uploadSecretNameFor(download),
      namespace: download.metadata.namespace,
      // A label value holds 63 characters, a name up to 253: the same value as on the Job.
      labels: { 'vdl.dev/download': downloadLabelValue(download.metadata.name as string) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.name, uid: job.uid }],
    },
    type: 'Opaque',
    stringData: { [uploadPlanFile]: JSON.stringify(plan) },
  };
}
