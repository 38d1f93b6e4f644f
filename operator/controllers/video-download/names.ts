// The names and label values the operator derives from a download's name: pure,
// shared by the Job, its pods and the download's upload Secret.
import { createHash } from 'node:crypto';

/** A name cut to max characters with a hash of the whole, so distinct names stay distinct. */
function shortened(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9).replace(/[^a-z0-9]+$/, '')}-${hash}`;
}

/**
 * The Job's name, derived from the resource so a create after a crash finds
 * the Job already there. At most 52 characters: the Job controller names
 * pods "<job>-<5 random>" and cuts longer names, and a download pod's right
 * to write status rests on its name showing which Job made it (charts/vdl
 * downloader-status policy).
 */
export function jobNameFor(downloadName: string): string {
  return shortened(downloadName, maxJobNameLength);
}
export const maxJobNameLength = 52;

/** The vdl.dev/download label: a label value holds 63 characters, a name up to 253. */
export function downloadLabelValue(downloadName: string): string {
  return shortened(downloadName, 63);
}
