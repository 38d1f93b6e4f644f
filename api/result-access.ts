// Which stored file GET /result may sign a link to: only the download's own,
// in its bucket and under its key prefix. Status is data the API did not
// write, so a result naming another user's file is refused, not signed.
import { resultOutsideDownload } from '../crds/storage-location.ts';
import type { VideoDownload } from '../crds/video-download.ts';

/** Why the download's recorded result must not be signed; undefined when it may. */
export function resultRefusal(download: VideoDownload, defaultBucket: string): string | undefined {
  const result = download.status?.result;
  if (!result) return 'no result is recorded';
  return resultOutsideDownload(result, download, defaultBucket);
}
