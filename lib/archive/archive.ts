// The archive as the operator uses it: record finished downloads, once each.
// Calls that arrive together (1,000 downloads finishing at once) are written
// in one INSERT of many rows, not one round trip each.
import type pg from 'pg';
import type { VideoDownload } from '../../crds/video-download.ts';
import { archivedDownload } from './archive-record.ts';
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
  const pending: Array<{ download: VideoDownload; resolve: () => void; reject: (error: unknown) => void }> =
    [];
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
    const rows = batch.flatMap(({ download }) => archivedDownload(download) ?? []);
    // One row per uid: the same download asked for twice in a batch is one row.
    const unique = [...new Map(rows.map((row) => [row.uid, row])).values()];
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
      if (!archivedDownload(download)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        pending.push({ download, resolve, reject });
        schedule(pending.length >= maxBatch ? 0 : windowMs);
      });
    },
  };
}
