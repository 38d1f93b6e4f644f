// What the operator hands a download pod instead of storage credentials:
// presigned requests for that download's own multipart uploads, in a file of
// a per-download Secret. The contract between operator and downloader.
import { z } from 'zod';

/** The Secret key (and file name) the plan is stored under. */
export const uploadPlanFile = 'upload-plan.json';

const presigned = z.url().max(8192);

/** One multipart upload the operator created: every request the pod may make for it, presigned. */
export const PresignedUpload = z.object({
  key: z.string().min(1).max(1024),
  /** Every part but the last has exactly this many bytes. */
  partSize: z.int().min(1),
  /** PUT URLs of parts 1..n, in order; a file needs ceil(size / partSize) of them. */
  parts: z.array(presigned).min(1).max(10_000),
  /** POST with the CompleteMultipartUpload XML. */
  complete: presigned,
  /** DELETE: drops the upload and the parts sent so far. */
  abort: presigned,
});
export type PresignedUpload = z.output<typeof PresignedUpload>;

export const UploadPlan = z.object({
  bucket: z.string().min(1),
  /** The download's file, under a fixed key; its user-visible name travels in status.result.filename. */
  file: PresignedUpload,
  /** yt-dlp's info JSON beside it (one part). */
  info: PresignedUpload,
  /** When the presigned requests stop working (the Job's deadline, at most the 7 days SigV4 allows). */
  expiresAt: z.iso.datetime(),
});
export type UploadPlan = z.output<typeof UploadPlan>;
