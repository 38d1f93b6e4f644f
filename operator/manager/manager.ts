// Runs controllers: one cache per watched kind that every replica keeps warm,
// and, on the replica holding the Lease, a work queue and workers per
// controller. Controllers say what they watch (see controller.ts); the
// manager owns everything else, so a new controller is a folder and an add().
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, statusCodeOf } from '../../lib/kube/api-errors.ts';
import {
  type CachedObject,
  type EventType,
  Informer,
  type InformerHealth,
  objectKey,
} from '../../lib/kube/informer.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Controller, ControllerContext, ReconcileResult, Watch } from './controller.ts';
import { LeaderElector } from './leader-election.ts';
import { createManagerMetrics, type ManagerMetrics } from './metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface ManagerOptions {
  kubeConfig: k8s.KubeConfig;
  logger: Logger;
  /** Namespace the caches watch; empty or absent: every namespace. */
  namespace?: string;
  /** Concurrent reconciles of a controller that does not say. */
  workers: number;
  /** The Lease to lead through; absent: this replica leads alone. */
  leaderElection?: { namespace: string; name: string; identity: string };
  /** Server-side watch timeout of the caches (tests shorten it). */
  watchTimeoutSeconds?: number;
  clock?: Clock;
}

type Handler = (type: EventType, object: CachedObject, previous: CachedObject | undefined) => void;

/** A registered controller and, while leading, its queue and workers. */
interface Running {
  controller: Controller;
  reconcile: (key: string) => Promise<ReconcileResult>;
  queue: WorkQueue | undefined;
  workers: Promise<void>[];
}

export class Manager {
  readonly metrics: ManagerMetrics;
  readonly clock: Clock;
  private readonly options: ManagerOptions;
  private readonly informers = new Map<string, { informer: Informer<CachedObject>; handlers: Handler[] }>();
  private readonly controllers: Running[] = [];
  private readonly elector: LeaderElector | undefined;
  private isLeading = false;
  private started = false;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.metrics = createManagerMetrics();
    const election = options.leaderElection;
    if (election) {
      this.elector = new LeaderElector({
        config: options.kubeConfig,
        ...election,
        logger: options.logger,
        onStartedLeading: () => this.startWorkers(),
        onStoppedLeading: () => this.stopWorkers(),
      });
    }
  }

  /** Registers a controller: its caches are made (or shared) now, and started with start(). */
  add(controller: Controller): void {
    if (this.started) throw new Error(`controller ${controller.name} added after the manager started`);
    const running: Running = { controller, reconcile: async () => ({}), queue: undefined, workers: [] };
    const enqueue = (key: string) => this.enqueue(running, key);
    this.watch(controller.for, () => (_type, object) => enqueue(objectKey(object)));
    for (const owned of controller.owns) {
      this.watch(owned.watch, () => (type, object, previous) => {
        const key = owned.ownerKeyOf(object);
        if (!key) return;
        enqueue(key);
        owned.onChange?.(type, object, previous, key);
      });
    }
    const context: ControllerContext = {
      cache: (watch) => this.cacheOf(watch),
      enqueue,
      leading: () => running.queue !== undefined,
      clock: this.clock,
      registry: this.metrics.registry,
      logger: this.options.logger.child({ controller: controller.name }),
    };
    running.reconcile = controller.setup(context);
    this.controllers.push(running);
  }

  get leading(): boolean {
    return this.isLeading;
  }

  informerHealth(): Record<string, InformerHealth> {
    return Object.fromEntries([...this.informers].map(([name, { informer }]) => [name, informer.health]));
  }

  /** Ready when every cache has synced and is watching (or about to rewatch). */
  ready(): boolean {
    return [...this.informers.values()].every(({ informer }) => informer.health.synced);
  }

  async start(): Promise<void> {
    this.started = true;
    const informers = [...this.informers.values()].map(({ informer }) => informer);
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((informer) => informer.waitForSync()));
    this.options.logger.info('caches synced');
    if (this.elector) this.elector.start();
    else this.startWorkers();
  }

  /** Graceful: stop taking work, let in-flight reconciles finish, release the Lease. */
  async stop(): Promise<void> {
    await this.elector?.stop();
    await this.stopWorkers();
    for (const { informer } of this.informers.values()) informer.stop();
  }

  /** The cache of a watch, made on first use; every handler of it hears each change. */
  private watch(watch: Watch<CachedObject>, handler: () => Handler): void {
    this.cacheEntry(watch).handlers.push(handler());
  }

  private cacheOf<T extends CachedObject>(watch: Watch<T>): Informer<T> {
    return this.cacheEntry(watch as unknown as Watch<CachedObject>).informer as unknown as Informer<T>;
  }

  private cacheEntry(watch: Watch<CachedObject>) {
    const existing = this.informers.get(watch.name);
    if (existing) return existing;
    const handlers: Handler[] = [];
    const informer = new Informer<CachedObject>({
      config: this.options.kubeConfig,
      namespace: this.options.namespace || undefined,
      logger: this.options.logger,
      watchTimeoutSeconds: this.options.watchTimeoutSeconds,
      name: watch.name,
      apiVersion: watch.apiVersion,
      kind: watch.kind,
      plural: watch.plural,
      labelSelector: watch.labelSelector,
      transform: watch.transform && ((object) => watch.transform?.(object) ?? object),
      indexBy: watch.indexBy && ((object) => watch.indexBy?.(object)),
      onChange: (type, object, previous) => {
        for (const handler of handlers) handler(type, object, previous);
      },
    });
    const entry = { informer, handlers };
    this.informers.set(watch.name, entry);
    return entry;
  }

  private enqueue(running: Running, key: string): void {
    running.queue?.add(key);
    this.updateQueueDepth();
  }

  private updateQueueDepth(): void {
    this.metrics.queueDepth.set(this.controllers.reduce((sum, { queue }) => sum + (queue?.length ?? 0), 0));
  }

  private startWorkers(): void {
    if (this.isLeading) return;
    this.isLeading = true;
    this.metrics.isLeader.set(1);
    for (const running of this.controllers) {
      const queue = new WorkQueue(undefined, this.clock);
      running.queue = queue;
      // A new leader looks at everything once: level-triggered, nothing depends on missed events.
      for (const object of this.cacheOf(running.controller.for).list()) queue.add(objectKey(object));
      const workers = running.controller.workers ?? this.options.workers;
      running.workers = Array.from({ length: workers }, () => this.work(running, queue));
    }
  }

  private async stopWorkers(): Promise<void> {
    if (!this.isLeading) return;
    this.isLeading = false;
    this.metrics.isLeader.set(0);
    const stopping = this.controllers.map(async (running) => {
      running.queue?.shutdown();
      running.queue = undefined;
      await Promise.all(running.workers);
      running.workers = [];
    });
    await Promise.all(stopping);
  }

  private async work(running: Running, queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = this.metrics.reconcileSeconds.startTimer();
      try {
        const { requeueAfterMs } = await running.reconcile(key);
        queue.forget(key);
        if (requeueAfterMs !== undefined) queue.addAfter(key, requeueAfterMs);
        this.metrics.reconciles.inc({ result: requeueAfterMs === undefined ? 'success' : 'requeue' });
      } catch (error) {
        if (statusCodeOf(error) === 404) {
          // Deleted while we worked on it; the informer's DELETED event has the last word.
          queue.forget(key);
          continue;
        }
        if (isConflict(error)) {
          // A write named a resourceVersion the cache had not caught up with
          // (a precondition): the informer brings the newer one, and a retry reads it.
          this.metrics.reconciles.inc({ result: 'conflict' });
          this.options.logger.debug(
            { controller: running.controller.name, key },
            'the cache was behind a write; retrying',
          );
          queue.addRateLimited(key);
          continue;
        }
        this.metrics.reconciles.inc({ result: 'error' });
        this.options.logger.warn(
          {
            controller: running.controller.name,
            key,
            err: error instanceof Error ? error.message : String(error),
            retries: queue.retries(key),
          },
          'reconcile failed; retrying with backoff',
        );
        queue.addRateLimited(key);
      } finally {
        stopTimer();
        queue.done(key);
        this.updateQueueDepth();
      }
    }
  }
}
