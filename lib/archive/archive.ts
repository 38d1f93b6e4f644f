// The archive as the operator uses it: record finished downloads, once each.
// Calls that arrive together (1,000 downloads finishing at once) are written
// in one INSERT of many rows, not one round trip each.
import type pg from 'pg';
import type { VideoDownload } from '../../crds/video-download.ts';
import { type ArchivedDownload, archivedDownload } from './archive-record.ts';
import { archiveDownloads, deleteArchivedBefore } from './archive-store.ts';

export interface Archive {
  /** Writes the finished download's row unless it is there; rejects while the database cannot be written. */
  record(download: VideoDownload): Promise<void>;
  /** Retention: deletes the rows of downloads finished before cutoff; how many went. */
  deleteFinishedBefore(cutoff: Date): Promise<number>;
}

/** The most rows one INSERT carries (PostgreSQL binds at most 65,535 parameters; a row has 21). */
const maxBatch = 1_000;

/**
 * An archive on PostgreSQL whose writes are batched: a record() waits at most
 * windowMs for others to join its INSERT. Each caller learns whether its own
 * row is stored: a failed batch rejects every record() in it.
 */
export function postgresArchive(pool: pg.Pool, windowMs = 20): Archive {
  const pending: Array<{ row: ArchivedDownload; resolve: () => void; reject: (error: unknown) => void }> = [];
  let scheduled = false;
  const schedule = (ms: number) => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(flush, ms);
  };
  const flush = async () => {
    scheduled = false;
    const batch = pending.splice(0, maxBatch);
    if (pending.length > 0) schedule(0);
    // One row per uid: the same download asked for twice in a batch is one row.
    const unique = [...new Map(batch.map(({ row }) => [row.uid, row])).values()];
    try {
      await archiveDownloads(pool, unique);
      for (const call of batch) call.resolve();
    } catch (error) {
      for (const call of batch) call.reject(error);
    }
  };
  return {
    deleteFinishedBefore: (cutoff) => deleteArchivedBefore(pool, cutoff),
    record(download) {
      // Built once, here: the batch writes the rows its callers made.
      const row = archivedDownload(download);
      if (!row) return Promise.resolve();
      return new Promise((resolve, reject) => {
        pending.push({ row, resolve, reject });
        schedule(pending.length >= maxBatch ? 0 : windowMs);
      });
    },
  };
}
