// The operator as one object: caches that every replica keeps warm, and a
// work queue with workers that run only on the replica holding the Lease.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiVersion, kind, labels, plural, type VideoDownload } from '../crds/video-download.ts';
import { statusCodeOf } from '../lib/kube/api-errors.ts';
import { Informer, type InformerHealth } from '../lib/kube/informer.ts';
import type { ObjectStore } from '../lib/storage/object-store.ts';
import type { OperatorConfig } from './config.ts';
import {
  downloadNameAnnotation,
  downloadNameOf,
  managedBy,
} from './controllers/video-download/desired-job.ts';
import { EventRecorder } from './controllers/video-download/event-recorder.ts';
import { type Caches, Reconciler } from './controllers/video-download/reconciler.ts';
import { jobFinished } from './controllers/video-download/status.ts';
import { LeaderElector } from './manager/leader-election.ts';
import { createOperatorMetrics, type OperatorMetrics } from './manager/metrics.ts';
import { WorkQueue } from './manager/work-queue.ts';

export interface OperatorOptions {
  config: OperatorConfig;
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  objectStore?: ObjectStore;
  /** Server-side watch timeout of the informers (tests shorten it). */
  watchTimeoutSeconds?: number;
}

const ownedSelector = `${labels.managedBy}=${managedBy}`;

function downloadKeyOf(object: {
  metadata?: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}) {
  const name = downloadNameOf(object);
  return name ? `${object.metadata?.namespace}/${name}` : undefined;
}

/** Only the annotation the operator reads: the download's whole name. */
function slimAnnotations(annotations: Record<string, string> | undefined) {
  const name = annotations?.[downloadNameAnnotation];
  return name === undefined ? undefined : { [downloadNameAnnotation]: name };
}

/** Drops what the operator never reads of a pod, to keep the cache small. */
function slimPod(pod: k8s.V1Pod): k8s.V1Pod {
  return {
    metadata: {
      name: pod.metadata?.name,
      namespace: pod.metadata?.namespace,
      labels: pod.metadata?.labels,
      annotations: slimAnnotations(pod.metadata?.annotations),
      // Which Job made the pod: a pod of an older Job of the same name is not this download's.
      ownerReferences: pod.metadata?.ownerReferences,
      resourceVersion: pod.metadata?.resourceVersion,
      creationTimestamp: pod.metadata?.creationTimestamp,
      deletionTimestamp: pod.metadata?.deletionTimestamp,
    },
    status: { phase: pod.status?.phase, containerStatuses: pod.status?.containerStatuses },
  };
}

/** Drops the pod template: the operator only reads a Job's identity and status. */
function slimJob(job: k8s.V1Job): k8s.V1Job {
  return {
    metadata: {
      name: job.metadata?.name,
      namespace: job.metadata?.namespace,
      uid: job.metadata?.uid,
      labels: job.metadata?.labels,
      annotations: slimAnnotations(job.metadata?.annotations),
      resourceVersion: job.metadata?.resourceVersion,
      ownerReferences: job.metadata?.ownerReferences,
      creationTimestamp: job.metadata?.creationTimestamp,
    },
    spec: {
      ttlSecondsAfterFinished: job.spec?.ttlSecondsAfterFinished,
      template: {} as k8s.V1PodTemplateSpec,
    },
    status: job.status,
  };
}

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly caches: Caches;
  private readonly options: OperatorOptions;
  private readonly reconciler: Reconciler;
  private readonly elector: LeaderElector | undefined;
  private queue: WorkQueue | undefined;
  private workers: Promise<void>[] = [];

  constructor(options: OperatorOptions) {
    this.options = options;
    const { config, kubeConfig, logger } = options;
    this.metrics = createOperatorMetrics();
    const namespace = config.watchNamespace || undefined;
    const common = {
      config: kubeConfig,
      namespace,
      logger,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
    };
    this.caches = {
      downloads: new Informer<VideoDownload>({
        ...common,
        name: 'videodownloads',
        apiVersion,
        kind,
        plural,
        onChange: (_type, download) =>
          this.enqueue(`${download.metadata.namespace}/${download.metadata.name}`),
      }),
      jobs: new Informer<k8s.V1Job>({
        ...common,
        name: 'jobs',
        apiVersion: 'batch/v1',
        kind: 'Job',
        plural: 'jobs',
        labelSelector: ownedSelector,
        transform: slimJob,
        onChange: (type, job, previous) => {
          const key = downloadKeyOf(job);
          if (!key) return;
          this.reconciler.observedJob(key);
          this.enqueue(key);
          const justFinished = jobFinished(job) && !(previous && jobFinished(previous));
          if (type === 'DELETED' || justFinished) this.wakeQueue();
        },
      }),
      pods: new Informer<k8s.V1Pod>({
        ...common,
        name: 'pods',
        apiVersion: 'v1',
        kind: 'Pod',
        plural: 'pods',
        labelSelector: ownedSelector,
        transform: slimPod,
        indexBy: downloadKeyOf,
        onChange: (_type, pod) => {
          const key = downloadKeyOf(pod);
          if (key) this.enqueue(key);
        },
      }),
    };
    this.reconciler = new Reconciler({
      config,
      kubeConfig,
      caches: this.caches,
      recorder: new EventRecorder(kubeConfig, 'vdl-operator', logger),
      metrics: this.metrics,
      objectStore: options.objectStore,
      logger,
      enqueue: (key) => this.enqueue(key),
    });
    if (config.leaderElection) {
      this.elector = new LeaderElector({
        config: kubeConfig,
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        logger,
        onStartedLeading: () => this.startWorkers(),
        onStoppedLeading: () => this.stopWorkers(),
      });
    }
  }

  get leading(): boolean {
    return this.queue !== undefined;
  }

  informerHealth(): Record<string, InformerHealth> {
    return Object.fromEntries(Object.entries(this.caches).map(([name, informer]) => [name, informer.health]));
  }

  /** Ready when every cache has synced and is watching (or about to rewatch). */
  ready(): boolean {
    return Object.values(this.caches).every((informer) => informer.health.synced);
  }

  async start(): Promise<void> {
    for (const informer of Object.values(this.caches)) informer.start();
    await Promise.all(Object.values(this.caches).map((informer) => informer.waitForSync()));
    this.options.logger.info('caches synced');
    if (this.elector) this.elector.start();
    else this.startWorkers();
  }

  /** Graceful: stop taking work, let in-flight reconciles finish, release the Lease. */
  async stop(): Promise<void> {
    await this.elector?.stop();
    await this.stopWorkers();
    for (const informer of Object.values(this.caches)) informer.stop();
  }

  private wakeQueue(): void {
    if (this.queue) this.reconciler.wakeQueue();
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
    this.metrics.queueDepth.set(this.queue?.length ?? 0);
  }

  private startWorkers(): void {
    if (this.queue) return;
    const queue = new WorkQueue();
    this.queue = queue;
    this.metrics.isLeader.set(1);
    // A new leader looks at everything once: level-triggered, nothing depends on missed events.
    for (const download of this.caches.downloads.list()) {
      queue.add(`${download.metadata.namespace}/${download.metadata.name}`);
    }
    this.workers = Array.from({ length: this.options.config.workers }, () => this.work(queue));
  }

  private async stopWorkers(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = undefined;
    this.metrics.isLeader.set(0);
    queue.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = this.metrics.reconcileSeconds.startTimer();
      try {
        const { requeueAfterMs } = await this.reconciler.reconcile(key);
        queue.forget(key);
        if (requeueAfterMs !== undefined) queue.addAfter(key, requeueAfterMs);
        this.metrics.reconciles.inc({ result: requeueAfterMs === undefined ? 'success' : 'requeue' });
      } catch (error) {
        if (statusCodeOf(error) === 404) {
          // Deleted while we worked on it; the informer's DELETED event has the last word.
          queue.forget(key);
          continue;
        }
        this.metrics.reconciles.inc({ result: 'error' });
        this.options.logger.warn(
          {
            download: key,
            err: error instanceof Error ? error.message : String(error),
            retries: queue.retries(key),
          },
          'reconcile failed; retrying with backoff',
        );
        queue.addRateLimited(key);
      } finally {
        stopTimer();
        queue.done(key);
        this.metrics.queueDepth.set(queue.length);
      }
    }
  }
}
