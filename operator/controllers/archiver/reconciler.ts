// Archives each finished download once: read the cache, write its row
// (idempotent on its uid, batched with others finishing at the same time).
// A database that cannot be written stops nothing: the download stays as it
// is, its status says why it is not archived yet, and the row is written
// when the database is back.
import type { Logger } from 'pino';
import { statusMessage } from '../../../crds/status-text.ts';
import { type ArchiveStatus, kubernetesTime, type VideoDownload } from '../../../crds/video-download.ts';
import type { Archive } from '../../../lib/archive/archive.ts';
import type { Clock } from '../../manager/clock.ts';
import type { Cache, ReconcileResult } from '../../manager/controller.ts';
import { isTerminal } from '../video-download/status.ts';

export interface ArchiverDependencies {
  downloads: Cache<VideoDownload>;
  archive: Archive;
  /** A merge patch of status.archive alone. */
  patchArchive(namespace: string, name: string, record: ArchiveStatus): Promise<void>;
  /** How long to wait before trying a failed write again. */
  retryMs: number;
  clock: Clock;
  logger: Logger;
}

export class ArchiverReconciler {
  private readonly deps: ArchiverDependencies;
  /** The uid archived by this replica, by key: a resync or a status change of a finished download writes nothing. */
  private readonly archived = new Map<string, string>();

  constructor(deps: ArchiverDependencies) {
    this.deps = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const download = this.deps.downloads.get(key);
    if (!download) this.archived.delete(key);
    if (!download || !isTerminal(download)) return {};
    const uid = download.metadata.uid as string;
    const { namespace, name } = download.metadata as { namespace: string; name: string };
    const record = download.status?.archive;
    if (this.archived.get(key) !== uid) {
      try {
        await this.deps.archive.record(download);
      } catch (error) {
        return this.failed(key, download, error);
      }
    }
    // Remembered once status no longer says it failed: a patch that did not land is tried again.
    if (record?.state === 'Failing')
      await this.deps.patchArchive(namespace, name, {
        state: 'Archived',
        since: kubernetesTime(this.deps.clock.now()),
      });
    this.archived.set(key, uid);
    return {};
  }

  /**
   * A write that failed: said in status once per cause (its code, not the
   * changing wording), and only for downloads that finished within the last
   * hour: a new leader re-checks every finished download in its cache, most
   * archived long ago, and a database outage then must not cost each of them
   * status writes. All are retried alike.
   */
  private async failed(key: string, download: VideoDownload, error: unknown): Promise<ReconcileResult> {
    const { namespace, name } = download.metadata as { namespace: string; name: string };
    const { code, message: text } = (error ?? {}) as { code?: string; message?: string };
    // A pg error's message names no credential; its connection parameters, left out here, would.
    const message = statusMessage(text || code || String(error));
    this.deps.logger.warn({ download: key, err: message }, 'could not archive; retrying');
    const record = download.status?.archive;
    const reason = 'ArchiveUnavailable';
    const finished = new Date(download.status?.completionTime ?? 0).getTime();
    const recent = this.deps.clock.now() - finished < 3_600_000;
    const sameCause =
      record?.state === 'Failing' && (record.message?.split(':')[0] ?? '') === message.split(':')[0];
    if (recent && !sameCause) {
      await this.deps.patchArchive(namespace, name, {
        state: 'Failing',
        reason,
        message,
        since:
          record?.state === 'Failing'
            ? (record.since ?? kubernetesTime(this.deps.clock.now()))
            : kubernetesTime(this.deps.clock.now()),
      });
    }
    return { requeueAfterMs: this.deps.retryMs };
  }
}
