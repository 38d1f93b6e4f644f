// What a controller declares to the manager, as controller-runtime's
// For(...).Owns(...): the kind it reconciles (its keys are "namespace/name"),
// the kinds it owns with the way back from an owned object to its owner's key,
// and a reconcile(key). The manager keeps the caches, queue and workers.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CachedObject, EventType } from '../../lib/kube/informer.ts';
import type { Clock } from './clock.ts';

/** One kind to list and watch. The manager keeps one cache per watch name, shared by the controllers naming it. */
export interface Watch<T extends CachedObject> {
  name: string;
  apiVersion: string;
  kind: string;
  plural: string;
  labelSelector?: string;
  /** Trims what the cache keeps. */
  transform?(object: T): T;
  /** One secondary index, read through Cache.byIndex. */
  indexBy?(object: T): string | undefined;
}

/** What a reconcile reads: a cache, never the API server. */
export interface Cache<T> {
  get(key: string): T | undefined;
  list(): T[];
  byIndex(value: string): T[];
}

/** A kind the controller makes: a change to one queues its owner. */
export interface Owned<T extends CachedObject> {
  watch: Watch<T>;
  /** The key of the object this one belongs to; undefined: not the controller's. */
  ownerKeyOf(object: T): string | undefined;
  /** Runs right after the owner's key is queued, on every replica (a standby's caches stay warm too). */
  onChange?(type: EventType, object: T, previous: T | undefined, ownerKey: string): void;
}

export interface ReconcileResult {
  /** Look again after this long (a TTL, a re-check); a thrown error retries with backoff instead. */
  requeueAfterMs?: number;
}

/** What the manager hands a controller once, before the caches start. */
export interface ControllerContext {
  cache<T extends CachedObject>(watch: Watch<T>): Cache<T>;
  /** Queues a key of this controller; a no-op on a replica that does not lead. */
  enqueue(key: string): void;
  /** Whether this replica leads, so its workers run. */
  leading(): boolean;
  clock: Clock;
  /** The operator's metrics registry, for the controller's own metrics. */
  registry: Registry;
  logger: Logger;
}

export interface Controller<Primary extends CachedObject = CachedObject> {
  /** Names the controller in logs. */
  name: string;
  for: Watch<Primary>;
  owns: Owned<CachedObject>[];
  /** Concurrent reconciles; the manager's default when unset. */
  workers?: number;
  /** Builds the reconcile from the caches and the rest of the context. */
  setup(context: ControllerContext): (key: string) => Promise<ReconcileResult>;
}

/** Types an owned watch where it is written, then lets it stand among the others. */
export function owns<T extends CachedObject>(owned: Owned<T>): Owned<CachedObject> {
  return owned as unknown as Owned<CachedObject>;
}
