// Which waiting downloads may start now: global and per-owner limits, and a
// fair order across owners (the owner with the fewest running goes first,
// FIFO within one owner). Pure: its only state is the resources themselves,
// so the queue survives operator restarts.
import type { V1Job } from '@kubernetes/client-node';
import type { VideoDownload } from '../../../../crds/video-download.ts';
import { downloadNameOf, jobNameFor, ownerOf } from '../desired-job.ts';
import { isTerminal, jobFinished } from '../status.ts';

export interface QueueLimits {
  maxActive: number;
  maxActivePerOwner: number;
}

export interface Waiting {
  key: string;
  owner: string;
  /** creationTimestamp in ms; ties broken by key. */
  createdAt: number;
}

export interface QueueDecision {
  /** Keys that may start now. */
  admitted: Set<string>;
  /** Fair start order of every waiting key (admitted ones first). */
  order: string[];
}

export function decideQueue(
  waiting: Waiting[],
  activeByOwner: Map<string, number>,
  limits: QueueLimits,
): QueueDecision {
  const byOwner = new Map<string, Waiting[]>();
  for (const entry of [...waiting].sort((a, b) => a.createdAt - b.createdAt || a.key.localeCompare(b.key))) {
    const list = byOwner.get(entry.owner) ?? [];
    list.push(entry);
    byOwner.set(entry.owner, list);
  }
  const running = new Map(activeByOwner);
  let free = limits.maxActive - [...activeByOwner.values()].reduce((sum, n) => sum + n, 0);
  const admitted = new Set<string>();
  const order: string[] = [];
  const cursor = new Map<string, number>();

  for (;;) {
    // Next owner: fewest running (counting those started in this decision), then the oldest waiting entry.
    let best: { owner: string; entry: Waiting; count: number } | undefined;
    for (const [owner, list] of byOwner) {
      const entry = list[cursor.get(owner) ?? 0];
      if (!entry) continue;
      const count = running.get(owner) ?? 0;
      if (
        !best ||
        count < best.count ||
        (count === best.count &&
          (entry.createdAt < best.entry.createdAt ||
            (entry.createdAt === best.entry.createdAt && entry.key < best.entry.key)))
      ) {
        best = { owner, entry, count };
      }
    }
    if (!best) break;
    cursor.set(best.owner, (cursor.get(best.owner) ?? 0) + 1);
    running.set(best.owner, best.count + 1);
    order.push(best.entry.key);
    if (free > 0 && best.count < limits.maxActivePerOwner) {
      admitted.add(best.entry.key);
      free -= 1;
    }
  }
  return { admitted, order };
}

export interface QueueSnapshot {
  waiting: Waiting[];
  /** Running downloads per owner. */
  active: Map<string, number>;
  /** Expected Jobs that the cache now holds: expectations to drop. */
  fulfilled: string[];
}

/**
 * Who waits and who runs, from the caches and the Jobs created but not yet
 * seen there (keyed by download, valued by Job name). A Job counts once,
 * whether the cache or an expectation holds it.
 */
export function queueSnapshot(
  downloads: VideoDownload[],
  jobs: V1Job[],
  expected: Map<string, string>,
): QueueSnapshot {
  const byKey = new Map(downloads.map((d) => [`${d.metadata.namespace}/${d.metadata.name}`, d]));
  const jobKeys = new Set(jobs.map((job) => `${job.metadata?.namespace}/${job.metadata?.name}`));
  const active = new Map<string, number>();
  const countActive = (owner: string) => active.set(owner, (active.get(owner) ?? 0) + 1);
  for (const job of jobs) {
    if (jobFinished(job)) continue;
    const download = byKey.get(`${job.metadata?.namespace}/${downloadNameOf(job)}`);
    // A Job whose download is already recorded as finished no longer holds a slot.
    if (download && isTerminal(download)) continue;
    countActive(download ? ownerOf(download) : `namespace:${job.metadata?.namespace}`);
  }
  const fulfilled: string[] = [];
  for (const [key, jobName] of expected) {
    const download = byKey.get(key);
    if (jobKeys.has(`${download?.metadata.namespace ?? key.split('/')[0]}/${jobName}`)) fulfilled.push(key);
    else if (download) countActive(ownerOf(download));
  }
  const waiting: Waiting[] = [];
  for (const [key, download] of byKey) {
    const { namespace, name } = download.metadata;
    if (isTerminal(download) || download.metadata.deletionTimestamp || download.status?.jobName) continue;
    if (expected.has(key) || jobKeys.has(`${namespace}/${jobNameFor(name as string)}`)) continue;
    waiting.push({
      key,
      owner: ownerOf(download),
      createdAt: new Date(download.metadata.creationTimestamp ?? 0).getTime(),
    });
  }
  return { waiting, active, fulfilled };
}
