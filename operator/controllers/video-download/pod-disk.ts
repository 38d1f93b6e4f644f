// The disk a download pod gets, from its maximum file size: the work dir's
// size limit and the container's ephemeral-storage request and limit, so the
// scheduler places a download only where its worst case fits and the kubelet
// evicts a pod that outgrows it. The downloader's own guard stops yt-dlp at
// workDirLimitBytes, before the kubelet would act.
import { mebibytes, quantityBytes } from '../../../crds/quantity.ts';
import { workDirLimit } from '../../../crds/work-dir.ts';

/** Between the guard's bound and the emptyDir limit: what yt-dlp writes while the guard looks. */
const guardHeadroomBytes = 128 * 2 ** 20;
/** The /tmp emptyDir's size limit. */
export const tmpSizeLimitBytes = 256 * 2 ** 20;
/** The container's logs, which count towards ephemeral storage too. */
const logBytes = 64 * 2 ** 20;

export interface PodDisk {
  /** What the downloader's guard lets the work dir hold (VDL_WORK_DIR_LIMIT). */
  workDirLimitBytes: number;
  /** The work emptyDir's sizeLimit. */
  workDirSizeLimit: string;
  tmpSizeLimit: string;
  /** The container's ephemeral-storage, requested and limited alike. */
  ephemeralStorage: string;
}

/** maxFileSize and workDirCap are quantities (the spec's or the operator's default, and the operator's cap). */
export function podDisk(maxFileSize: string, workDirCap: string): PodDisk {
  const cap = quantityBytes(workDirCap) - guardHeadroomBytes;
  const workDirLimitBytes = Math.max(64 * 2 ** 20, workDirLimit(quantityBytes(maxFileSize), cap));
  const workDirBytes = workDirLimitBytes + guardHeadroomBytes;
  return {
    workDirLimitBytes,
    workDirSizeLimit: mebibytes(workDirBytes),
    tmpSizeLimit: mebibytes(tmpSizeLimitBytes),
    ephemeralStorage: mebibytes(workDirBytes + tmpSizeLimitBytes + logBytes),
  };
}
