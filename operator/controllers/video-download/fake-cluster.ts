// A stand-in for the API server, the caches and storage, for unit tests of
// the reconciler: writes land in a log, in order, and in the caches as the
// server and informers would put them (Jobs reach the cache only on
// syncJobs(), as an informer lags a create). Real servers are the
// integration tests' job; this is for the order and number of writes.
import type { V1Job, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { VideoDownload } from '../../../crds/video-download.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';
import type { Clock } from '../../manager/clock.ts';
import { MemoryCache } from '../../manager/memory-cache.ts';
import { downloadKeyOf } from './controller.ts';
import type { KubeWrites } from './kube-writes.ts';

function apiError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class FakeCluster implements KubeWrites {
  readonly downloads = new MemoryCache<VideoDownload>();
  readonly jobs = new MemoryCache<V1Job>();
  readonly pods = new MemoryCache<V1Pod>([], downloadKeyOf);
  /** Every write sent, as "verb namespace/name", in order (refused ones too). */
  readonly writes: string[] = [];
  readonly events: string[] = [];
  /** The Jobs the server holds; the cache catches up on syncJobs(). */
  readonly serverJobs = new Map<string, V1Job>();
  readonly secrets = new Map<string, V1Secret>();
  /** Downloads whose cache copy staleCache() put behind the server: the server's copy. */
  private readonly serverDownloads = new Map<string, VideoDownload>();
  private readonly clock: Clock;
  private uids = 0;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The Job cache catches up with the server. */
  syncJobs(): void {
    for (const job of this.jobs.list()) {
      const key = `${job.metadata?.namespace}/${job.metadata?.name}`;
      if (!this.serverJobs.has(key)) this.jobs.delete(key);
    }
    for (const job of this.serverJobs.values()) this.jobs.put(structuredClone(job));
  }

  /** Changes a Job on the server and in the cache (the Job controller's work). */
  updateJob(key: string, change: (job: V1Job) => void): void {
    const job = this.serverJobs.get(key);
    if (!job) throw new Error(`no Job ${key}`);
    change(job);
    this.syncJobs();
  }

  async createJob(namespace: string, job: V1Job): Promise<V1Job> {
    const key = `${namespace}/${job.metadata?.name}`;
    // Logged as sent: a create the server refuses was still one too many.
    this.writes.push(`createJob ${key}`);
    if (this.serverJobs.has(key)) throw apiError(409, `jobs "${job.metadata?.name}" already exists`);
    const created = structuredClone(job);
    created.metadata = { ...created.metadata, namespace, uid: `job-uid-${++this.uids}` };
    created.status = {};
    this.serverJobs.set(key, created);
    return structuredClone(created);
  }

  async readJob(namespace: string, name: string): Promise<V1Job | undefined> {
    const job = this.serverJobs.get(`${namespace}/${name}`);
    return job && structuredClone(job);
  }

  async setJobTtl(namespace: string, name: string, ttl: number): Promise<void> {
    this.writes.push(`setJobTtl ${namespace}/${name} ${ttl}`);
    this.updateJob(`${namespace}/${name}`, (job) => {
      job.spec = { ...job.spec, ttlSecondsAfterFinished: ttl } as V1Job['spec'];
    });
  }

  async deleteJob(namespace: string, name: string): Promise<void> {
    this.writes.push(`deleteJob ${namespace}/${name}`);
    this.serverJobs.delete(`${namespace}/${name}`);
  }

  async createSecret(namespace: string, secret: V1Secret): Promise<void> {
    const key = `${namespace}/${secret.metadata?.name}`;
    this.writes.push(`createSecret ${key}`);
    if (this.secrets.has(key)) throw apiError(409, `secrets "${secret.metadata?.name}" already exists`);
    this.secrets.set(key, secret);
  }

  async patchStatus(
    namespace: string,
    name: string,
    resourceVersion: string,
    patch: Record<string, unknown>,
  ): Promise<void> {
    this.writes.push(`patchStatus ${namespace}/${name} ${Object.keys(patch).sort().join(',')}`);
    this.precondition(`${namespace}/${name}`, resourceVersion);
    this.change(namespace, name, (download) => {
      const status: Record<string, unknown> = { ...download.status };
      for (const [field, value] of Object.entries(patch)) {
        if (value === null) delete status[field];
        else status[field] = structuredClone(value);
      }
      download.status = status as VideoDownload['status'];
    });
  }

  async setFinalizers(namespace: string, name: string, resourceVersion: string, next: string[]) {
    this.precondition(`${namespace}/${name}`, resourceVersion);
    this.writes.push(`setFinalizers ${namespace}/${name} [${next.join(',')}]`);
    this.change(namespace, name, (download) => {
      download.metadata.finalizers = next;
    });
    // The server removes a deleted object once its last finalizer goes.
    const after = this.downloads.get(`${namespace}/${name}`);
    if (after?.metadata.deletionTimestamp && next.length === 0) this.downloads.delete(`${namespace}/${name}`);
    return this.serverVersion(`${namespace}/${name}`) as string;
  }

  /**
   * The cache falls behind the server: it holds stale, an older copy of a
   * download, as an informer does until the watch event of the last write
   * arrives; syncDownloads() brings it back.
   */
  staleCache(stale: VideoDownload): void {
    const key = `${stale.metadata.namespace}/${stale.metadata.name}`;
    const current = this.downloads.get(key);
    if (current) this.serverDownloads.set(key, current);
    this.downloads.put(structuredClone(stale));
  }

  /** The download cache catches up with the server. */
  syncDownloads(): void {
    for (const download of this.serverDownloads.values()) this.downloads.put(download);
    this.serverDownloads.clear();
  }

  /** The server's resourceVersion: the cache's unless staleCache() put it behind. */
  private serverVersion(key: string): string | undefined {
    return (this.serverDownloads.get(key) ?? this.downloads.get(key))?.metadata.resourceVersion;
  }

  private precondition(key: string, resourceVersion: string): void {
    if (this.serverVersion(key) !== resourceVersion) throw apiError(409, 'the object has been modified');
  }

  async deleteDownload(namespace: string, name: string): Promise<void> {
    this.writes.push(`deleteDownload ${namespace}/${name}`);
    this.deleteNow(`${namespace}/${name}`);
  }

  /** A user deletes the download: it stays, marked, while finalizers hold it. */
  deleteNow(key: string): void {
    const download = this.downloads.get(key);
    if (!download) return;
    if (!download.metadata.finalizers?.length) {
      this.downloads.delete(key);
      return;
    }
    const [namespace, name] = key.split('/') as [string, string];
    this.change(namespace, name, (d) => {
      d.metadata.deletionTimestamp = new Date(this.clock.now()).toISOString();
    });
  }

  async record(download: VideoDownload, type: string, reason: string): Promise<void> {
    this.events.push(`${type} ${reason} ${download.metadata.name}`);
  }

  private change(namespace: string, name: string, edit: (download: VideoDownload) => void): void {
    const download = this.downloads.get(`${namespace}/${name}`);
    if (!download) throw apiError(404, `videodownloads "${name}" not found`);
    const next = structuredClone(download);
    edit(next);
    next.metadata.resourceVersion = String(Number(download.metadata.resourceVersion ?? 0) + 1);
    this.downloads.put(next);
  }
}

/**
 * Storage that logs what the reconciler asks of it into the cluster's write
 * log; stored holds the objects there ("bucket/key" → size), for statObject.
 */
export function fakeObjectStore(writes: string[], stored = new Map<string, number>()): ObjectStore {
  let uploads = 0;
  return {
    async removePrefix(bucket, prefix) {
      writes.push(`removePrefix ${bucket}/${prefix}`);
      return 0;
    },
    async abortIncompleteUploads(bucket, prefix) {
      writes.push(`abortIncompleteUploads ${bucket}/${prefix}`);
      return 0;
    },
    async createUpload(bucket, key) {
      writes.push(`createUpload ${bucket}/${key}`);
      return `upload-${++uploads}`;
    },
    async abortUpload(bucket, key) {
      writes.push(`abortUpload ${bucket}/${key}`);
    },
    async statObject(bucket, key) {
      const size = stored.get(`${bucket}/${key}`);
      return size === undefined ? undefined : { size };
    },
    async presign(_method, bucket, key, _expiry, query) {
      return `https://storage.test/${bucket}/${key}?${new URLSearchParams(query)}`;
    },
  };
}
