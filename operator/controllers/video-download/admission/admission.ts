// Admission, the one owner of "may this download start its Job now?", as
// Kueue makes its queue an object of its own. It holds the fair queue's
// decision (download-queue.ts, pure), the permits of the latest decision
// (admission-permits.ts) and the Jobs admitted but not yet in the cache
// (client-go's "expectations"), so a slot is never given twice.
// tryAdmit runs to its end without awaiting: two workers cannot interleave
// inside it, so limits hold across workers with no lock.
import type { V1Job } from '@kubernetes/client-node';
import type { VideoDownload } from '../../../../crds/video-download.ts';
import type { Cache } from '../../../manager/controller.ts';
import { jobNameFor } from '../desired-job.ts';
import { AdmissionPermits } from './admission-permits.ts';
import { decideQueue, type QueueDecision, type QueueLimits, queueSnapshot } from './download-queue.ts';

export type AdmissionResult = 'admitted' | 'queued';

export interface AdmissionOptions {
  downloads: Cache<VideoDownload>;
  jobs: Cache<V1Job>;
  limits: QueueLimits;
  /** Asks for a download to be reconciled again (one a freed slot admits). */
  enqueue: (key: string) => void;
}

function keyOf(download: VideoDownload): string {
  return `${download.metadata.namespace}/${download.metadata.name}`;
}

export class Admission {
  private readonly options: AdmissionOptions;
  private readonly permits = new AdmissionPermits();
  /** Downloads admitted whose Job the cache does not hold yet, valued by Job name. */
  private readonly expected = new Map<string, string>();

  constructor(options: AdmissionOptions) {
    this.options = options;
  }

  /**
   * Whether the download, which has no Job, may create it now. Admitted, it
   * holds its slot from here: the caller creates the Job, or calls
   * createFailed when that fails.
   */
  tryAdmit(download: VideoDownload): AdmissionResult {
    const key = keyOf(download);
    let admitted = this.permits.take(key);
    if (!admitted) {
      this.permits.grant(this.decide().admitted);
      admitted = this.permits.take(key);
    }
    if (!admitted) return 'queued';
    this.expected.set(key, jobNameFor(download.metadata.name as string));
    return 'admitted';
  }

  /** Admitted, its Job not yet seen in the cache: a reconcile waits for the cache instead of creating again. */
  pending(key: string): boolean {
    return this.expected.has(key);
  }

  /** The Job of an admitted download could not be created: its slot is free again. */
  createFailed(key: string): void {
    this.expected.delete(key);
  }

  /** The cache holds the download's Job (or the download is gone): the Job, if any, holds the slot now. */
  settled(key: string): void {
    this.expected.delete(key);
  }

  /** A slot may have come free (a download finished, a Job or a download went): queue whoever may start now. */
  released(): void {
    const decision = this.decide();
    this.permits.grant(decision.admitted);
    for (const key of decision.admitted) this.options.enqueue(key);
  }

  /** The fair queue's decision over everything the caches and expectations hold now. */
  private decide(): QueueDecision {
    const { downloads, jobs, limits } = this.options;
    const { waiting, active, fulfilled } = queueSnapshot(downloads.list(), jobs.list(), this.expected);
    for (const key of fulfilled) this.expected.delete(key);
    return decideQueue(waiting, active, limits);
  }
}
