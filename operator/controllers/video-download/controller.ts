// The VideoDownload controller as the manager sees it: for VideoDownloads,
// owning the Jobs and pods it makes (found again by their labels, mapped back
// to their download by its name annotation), reconciled by reconciler.ts.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion, kind, labels, plural, type VideoDownload } from '../../../crds/video-download.ts';
import type { Archive } from '../../../lib/archive/archive.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import type { OperatorConfig } from '../../config.ts';
import { type Controller, owns, type Watch } from '../../manager/controller.ts';
import { Admission } from './admission/admission.ts';
import { downloadNameAnnotation, downloadNameOf, managedBy } from './desired-job.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { KubeWrites } from './kube-writes.ts';
import { videoDownloadMetrics } from './metrics.ts';
import { Reconciler } from './reconciler.ts';
import { jobFinished } from './status.ts';

const ownedSelector = `${labels.managedBy}=${managedBy}`;

/** The key of the download a Job or pod was made for. */
export function downloadKeyOf(object: {
  metadata?: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}): string | undefined {
  const name = downloadNameOf(object);
  return name ? `${object.metadata?.namespace}/${name}` : undefined;
}

/** Only the annotation the operator reads: the download's whole name. */
function slimAnnotations(annotations: Record<string, string> | undefined) {
  const name = annotations?.[downloadNameAnnotation];
  return name === undefined ? undefined : { [downloadNameAnnotation]: name };
}

/**
 * The metadata the operator reads of its Jobs and pods: identity, owners,
 * labels, and deletionTimestamp (a finished download keeps its record while
 * its Job is being deleted, see status.ts).
 */
function slimMetadata(metadata: k8s.V1ObjectMeta | undefined): k8s.V1ObjectMeta {
  return {
    name: metadata?.name,
    namespace: metadata?.namespace,
    uid: metadata?.uid,
    labels: metadata?.labels,
    annotations: slimAnnotations(metadata?.annotations),
    // Which Job made a pod: a pod of an older Job of the same name is not this download's.
    ownerReferences: metadata?.ownerReferences,
    resourceVersion: metadata?.resourceVersion,
    creationTimestamp: metadata?.creationTimestamp,
    deletionTimestamp: metadata?.deletionTimestamp,
  };
}

/** Drops what the operator never reads of a pod, to keep the cache small. */
export function slimPod(pod: k8s.V1Pod): k8s.V1Pod {
  return {
    metadata: slimMetadata(pod.metadata),
    status: { phase: pod.status?.phase, containerStatuses: pod.status?.containerStatuses },
  };
}

/**
 * Drops the pod template but the downloader's memory limit: the operator reads
 * a Job's identity and status, and that limit for an OutOfMemory message.
 */
export function slimJob(job: k8s.V1Job): k8s.V1Job {
  const memory = job.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
  return {
    metadata: slimMetadata(job.metadata),
    spec: {
      ttlSecondsAfterFinished: job.spec?.ttlSecondsAfterFinished,
      template: (memory
        ? { spec: { containers: [{ name: 'downloader', resources: { limits: { memory } } }] } }
        : {}) as k8s.V1PodTemplateSpec,
    },
    status: job.status,
  };
}

export const downloads: Watch<VideoDownload> = { name: 'videodownloads', apiVersion, kind, plural };

export const jobs: Watch<k8s.V1Job> = {
  name: 'jobs',
  apiVersion: 'batch/v1',
  kind: 'Job',
  plural: 'jobs',
  labelSelector: ownedSelector,
  transform: slimJob,
};

/** Indexed by the key of their download. */
export const pods: Watch<k8s.V1Pod> = {
  name: 'pods',
  apiVersion: 'v1',
  kind: 'Pod',
  plural: 'pods',
  labelSelector: ownedSelector,
  transform: slimPod,
  indexBy: downloadKeyOf,
};

export interface VideoDownloadControllerOptions {
  config: OperatorConfig;
  writes: KubeWrites;
  recorder: Pick<EventRecorder, 'record'>;
  objectStore: ObjectStore | undefined;
  archive?: Archive | undefined;
  logger: Logger;
}

export function videoDownloadController(options: VideoDownloadControllerOptions): Controller<VideoDownload> {
  // Made in setup, once the manager has the caches; the Job watch's hook reads them.
  let admission: Admission | undefined;
  let leading: () => boolean = () => false;
  return {
    name: 'videodownload',
    for: downloads,
    owns: [
      owns({
        watch: jobs,
        ownerKeyOf: downloadKeyOf,
        onChange(type, job, previous, key) {
          // A Job in the cache holds its slot from now on; one that went or just finished frees one.
          admission?.settled(key);
          const justFinished = jobFinished(job) && !(previous && jobFinished(previous));
          if ((type === 'DELETED' || justFinished) && leading()) admission?.released();
        },
      }),
      owns({ watch: pods, ownerKeyOf: downloadKeyOf }),
    ],
    setup(context) {
      leading = context.leading;
      const caches = {
        downloads: context.cache(downloads),
        jobs: context.cache(jobs),
        pods: context.cache(pods),
      };
      admission = new Admission({
        downloads: caches.downloads,
        jobs: caches.jobs,
        limits: {
          maxActive: options.config.maxActiveDownloads,
          maxActivePerOwner: options.config.maxActivePerOwner,
        },
        enqueue: context.enqueue,
      });
      const reconciler = new Reconciler({
        ...options,
        caches,
        admission,
        metrics: videoDownloadMetrics(context.registry, {
          list: () => caches.downloads.list(),
          now: () => context.clock.now(),
        }),
        clock: context.clock,
      });
      return (key) => reconciler.reconcile(key);
    },
  };
}
