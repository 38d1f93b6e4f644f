// The archiver as the manager sees it: for VideoDownloads (the same cache as
// the VideoDownload controller's), owning nothing, on the leader only like
// every controller, so one replica writes the archive.
import * as k8s from '@kubernetes/client-node';
import {
  type ArchiveStatus,
  group,
  plural,
  type VideoDownload,
  version,
} from '../../../crds/video-download.ts';
import type { Archive } from '../../../lib/archive/archive.ts';
import type { Controller } from '../../manager/controller.ts';
import { downloads } from '../video-download/controller.ts';
import { ArchiverReconciler } from './reconciler.ts';

export interface ArchiverOptions {
  kubeConfig: k8s.KubeConfig;
  archive: Archive;
  retryMs?: number;
  /** Retention: rows of downloads finished longer ago than ttlMs go, swept every sweepMs by the leader. */
  retention?: { ttlMs: number; sweepMs: number } | undefined;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export function archiverController(options: ArchiverOptions): Controller<VideoDownload> {
  const objects = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  return {
    name: 'archiver',
    for: downloads,
    owns: [],
    setup(context) {
      const { retention } = options;
      if (retention && retention.ttlMs > 0) {
        // The leader's alone, like every write of the archive; unref'd, it never holds the process.
        const timer = setInterval(() => {
          if (!context.leading()) return;
          const cutoff = new Date(context.clock.now() - retention.ttlMs);
          options.archive.deleteFinishedBefore(cutoff).then(
            (deleted) => deleted > 0 && context.logger.info({ deleted, cutoff }, 'archive retention'),
            (error: Error) =>
              context.logger.warn({ err: error.message }, 'archive retention failed; next sweep retries'),
          );
        }, retention.sweepMs);
        timer.unref();
      }
      const reconciler = new ArchiverReconciler({
        downloads: context.cache(downloads),
        archive: options.archive,
        retryMs: options.retryMs ?? 5_000,
        async patchArchive(namespace, name, record: ArchiveStatus) {
          await objects.patchNamespacedCustomObjectStatus(
            { group, version, namespace, plural, name, body: { status: { archive: record } } },
            mergePatch,
          );
        },
        clock: context.clock,
        logger: context.logger,
      });
      return (key) => reconciler.reconcile(key);
    },
  };
}
