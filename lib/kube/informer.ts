// A list-and-watch cache of one kind of object that keeps itself current:
// it restarts watches that the server ends (every watch ends after
// --min-request-timeout), relists on 410 Gone, aborts a watch that went
// silent (a half-dead TCP stream, kubernetes-client/javascript#364), and
// backs off between failures (never the request storms of #1933). Its
// health is visible for /readyz.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusCodeOf } from './api-errors.ts';
import { sharedStrings } from './shared-strings.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What the informer needs of an object; timestamps may be strings (plain JSON) or Dates. */
export interface CachedObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    managedFields?: unknown;
  };
}

export interface InformerOptions<T extends CachedObject> {
  name: string;
  config: k8s.KubeConfig;
  apiVersion: string;
  kind: string;
  /** Lower-case plural of kind, for the watch path. */
  plural: string;
  /** Empty or absent: every namespace. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Trims what the cache keeps (memory with thousands of objects). */
  transform?: (object: T) => T;
  onChange: (type: EventType, object: T, previous: T | undefined) => void;
  logger: Logger;
  /** Server-side watch timeout; the server ends the watch after this. */
  watchTimeoutSeconds?: number;
  /** A watch that delivers nothing (not even a bookmark) for this long is abandoned. */
  idleTimeoutMs?: number;
  pageSize?: number;
  /** One secondary index: objects are findable by the value this returns. */
  indexBy?: (object: T) => string | undefined;
}

export interface InformerHealth {
  synced: boolean;
  watching: boolean;
  lastEventAt: number | undefined;
  relists: number;
  restarts: number;
  lastError: string | undefined;
  /** When list/watch started failing (ms since epoch); undefined while the API server answers. */
  failingSince: number | undefined;
}

export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${root}/namespaces/${namespace}/${plural}` : `${root}/${plural}`;
}

export function objectKey(object: CachedObject): string {
  const { namespace, name } = object.metadata ?? {};
  return namespace ? `${namespace}/${name}` : (name as string);
}

export class Informer<T extends CachedObject> {
  private readonly store = new Map<string, T>();
  private readonly index = new Map<string, Set<string>>();
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private syncedResolvers: Array<() => void> = [];
  readonly health: InformerHealth = {
    synced: false,
    watching: false,
    lastEventAt: undefined,
    relists: 0,
    restarts: 0,
    lastError: undefined,
    failingSince: undefined,
  };

  private readonly objects: k8s.KubernetesObjectApi;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly path: string;

  private readonly options: InformerOptions<T>;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.objects = k8s.KubernetesObjectApi.makeApiClient(options.config);
    this.custom = options.config.makeApiClient(k8s.CustomObjectsApi);
    this.path = collectionPath(options.apiVersion, options.plural, options.namespace);
  }

  start(): void {
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.idleTimer);
    this.abort?.abort();
    this.health.watching = false;
  }

  waitForSync(): Promise<void> {
    if (this.health.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedResolvers.push(resolve));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** Objects whose indexBy value is value. */
  byIndex(value: string): T[] {
    return [...(this.index.get(value) ?? [])].flatMap((key) => this.store.get(key) ?? []);
  }

  private put(key: string, object: T): void {
    this.unindex(key);
    this.store.set(key, object);
    const value = this.options.indexBy?.(object);
    if (value === undefined) return;
    const keys = this.index.get(value) ?? new Set<string>();
    keys.add(key);
    this.index.set(value, keys);
  }

  private remove(key: string): void {
    this.unindex(key);
    this.store.delete(key);
  }

  private unindex(key: string): void {
    const old = this.store.get(key);
    const value = old && this.options.indexBy?.(old);
    if (value === undefined) return;
    const keys = this.index.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.index.delete(value);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  private keep(object: T): T {
    const kept = this.options.transform ? this.options.transform(object) : object;
    if (kept.metadata) delete kept.metadata.managedFields;
    return sharedStrings.shareIn(kept);
  }

  /**
   * One page of the list. Objects of an API group come through the custom
   * objects API as plain JSON: KubernetesObjectApi.list drops the continue
   * token of a custom resource's list, which left all but the first page of
   * VideoDownloads out of the cache. Core objects come as model classes with
   * Date fields, watched ones as plain JSON: the cache keeps one shape.
   */
  private async listPage(
    continueToken: string | undefined,
  ): Promise<{ items: T[]; continueToken?: string; resourceVersion?: string }> {
    const { apiVersion, plural, fieldSelector, labelSelector } = this.options;
    const namespace = this.options.namespace || undefined;
    const limit = this.options.pageSize ?? 500;
    if (apiVersion.includes('/')) {
      const [group, version] = apiVersion.split('/') as [string, string];
      const query = { group, version, plural, fieldSelector, labelSelector, limit, _continue: continueToken };
      const list = (
        namespace
          ? await this.custom.listNamespacedCustomObject({ ...query, namespace })
          : await this.custom.listClusterCustomObject(query)
      ) as { items: T[]; metadata?: { continue?: string; resourceVersion?: string } };
      return {
        items: list.items,
        continueToken: list.metadata?.continue || undefined,
        resourceVersion: list.metadata?.resourceVersion,
      };
    }
    const page = await this.objects.list(
      apiVersion,
      this.options.kind,
      namespace,
      undefined,
      undefined,
      undefined,
      fieldSelector,
      labelSelector,
      limit,
      continueToken,
    );
    return {
      items: JSON.parse(JSON.stringify(page.items)) as T[],
      continueToken: page.metadata?._continue || undefined,
      resourceVersion: page.metadata?.resourceVersion,
    };
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.health.relists += 1;
    try {
      const fresh = new Map<string, T>();
      let continueToken: string | undefined;
      let resourceVersion: string | undefined;
      do {
        const page = await this.listPage(continueToken);
        for (const item of page.items) fresh.set(objectKey(item), this.keep(item));
        continueToken = page.continueToken;
        resourceVersion = page.resourceVersion;
      } while (continueToken);
      if (this.stopped) return;
      // Replace the store and tell the handlers what changed while we were not watching.
      const previous = new Map(this.store);
      this.store.clear();
      this.index.clear();
      for (const [key, object] of fresh) {
        this.put(key, object);
        const old = previous.get(key);
        if (!old) this.options.onChange('ADDED', object, undefined);
        else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
          this.options.onChange('MODIFIED', object, old);
      }
      for (const [key, old] of previous) if (!fresh.has(key)) this.options.onChange('DELETED', old, old);
      this.resourceVersion = resourceVersion;
      this.failures = 0;
      this.health.failingSince = undefined;
      this.markSynced();
      await this.watch();
    } catch (error) {
      this.retry(error, () => this.relist());
    }
  }

  private markSynced(): void {
    if (this.health.synced) return;
    this.health.synced = true;
    for (const resolve of this.syncedResolvers.splice(0)) resolve();
  }

  private retry(error: unknown, again: () => Promise<void>): void {
    if (this.stopped) return;
    this.failures += 1;
    this.health.watching = false;
    this.health.failingSince ??= Date.now();
    this.health.lastError = error instanceof Error ? error.message : String(error);
    // 200 ms doubling to 30 s, with jitter so many informers do not retry in step.
    const delay = Math.min(200 * 2 ** (this.failures - 1), 30_000) * (0.75 + Math.random() / 2);
    this.options.logger.warn(
      { informer: this.options.name, err: this.health.lastError, retryInMs: Math.round(delay) },
      'list/watch failed; retrying',
    );
    this.retryTimer = setTimeout(() => void again(), delay);
  }

  private resetIdleTimer(): void {
    clearTimeout(this.idleTimer);
    const idleMs = this.options.idleTimeoutMs ?? ((this.options.watchTimeoutSeconds ?? 300) + 30) * 1000;
    this.idleTimer = setTimeout(() => {
      this.options.logger.warn(
        { informer: this.options.name },
        'watch silent past its idle timeout; restarting',
      );
      this.abort?.abort();
    }, idleMs);
    this.idleTimer.unref();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const watch = new k8s.Watch(this.options.config);
    // The library aborts a watch after 30 s without data; ours owns that
    // decision (idleTimeoutMs), since bookmarks may come only once a minute.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 2 ** 31 - 1;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    let expired = false;
    // watch() reports a failed connect through the done callback before it
    // returns, so only a watch that has not ended yet counts as watching.
    let ended = false;
    this.resetIdleTimer();
    this.abort = await watch.watch(
      this.path,
      {
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // Spread server-side timeouts so informers do not all reconnect at once.
        timeoutSeconds: Math.round(timeoutSeconds * (0.8 + Math.random() * 0.4)),
      },
      (type: string, object: T & { code?: number }) => {
        this.health.watching = true;
        this.health.lastEventAt = Date.now();
        this.resetIdleTimer();
        if (type === 'ERROR') {
          if (object.code === 410) expired = true;
          this.health.lastError = `watch error: ${JSON.stringify(object)}`;
          return;
        }
        const rv = object.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const key = objectKey(object);
        const previous = this.store.get(key);
        if (type === 'DELETED') {
          this.remove(key);
          this.options.onChange('DELETED', previous ?? object, previous);
        } else {
          const kept = this.keep(object);
          this.put(key, kept);
          this.options.onChange(previous ? 'MODIFIED' : 'ADDED', kept, previous);
        }
      },
      (error: unknown) => {
        ended = true;
        clearTimeout(this.idleTimer);
        this.health.watching = false;
        if (this.stopped) return;
        this.health.restarts += 1;
        if (expired || statusCodeOf(error) === 410) {
          this.options.logger.info(
            { informer: this.options.name },
            'resource version expired (410 Gone); relisting',
          );
          void this.relist();
        } else if (error && !(error instanceof Error && error.name === 'AbortError')) {
          this.retry(error, () => this.watch());
        } else {
          // A normal end (server timeout, our idle abort): resume from the last resource version.
          this.failures = 0;
          void this.watch().catch((e: unknown) => this.retry(e, () => this.watch()));
        }
      },
    );
    if (ended) return;
    this.health.watching = true;
    this.health.failingSince = undefined;
  }
}
