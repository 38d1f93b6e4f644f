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
    if (this.archived.get(key) === uid) return {};
    const { namespace, name } = download.metadata as { namespace: string; name: string };
    const failing = download.status?.archive?.state === 'Failing';
    try {
      await this.deps.archive.record(download);
    } catch (error) {
      // A pg error's message names no credential; its connection parameters, left out here, would.
      const message = statusMessage(error instanceof Error ? error.message : String(error));
      this.deps.logger.warn({ download: key, err: message }, 'could not archive; retrying');
      if (!failing || download.status?.archive?.message !== message) {
        await this.deps.patchArchive(namespace, name, {
          state: 'Failing',
          reason: 'ArchiveUnavailable',
          message,
          since: download.status?.archive?.since ?? kubernetesTime(this.deps.clock.now()),
        });
      }
      return { requeueAfterMs: this.deps.retryMs };
    }
    this.archived.set(key, uid);
    // Told only when it had said it failed: the happy path costs no status write.
    if (failing)
      await this.deps.patchArchive(namespace, name, {
        state: 'Archived',
        since: kubernetesTime(this.deps.clock.now()),
      });
    return {};
  }
}
