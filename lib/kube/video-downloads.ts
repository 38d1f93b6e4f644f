// The typed client of one namespace's VideoDownloads: the group, version and
// plural, and what a failed call means, written once for the programs and the tests.
import * as k8s from '@kubernetes/client-node';
import {
  apiVersion,
  group,
  kind,
  plural,
  type VideoDownload,
  type VideoDownloadSpecInput,
  type VideoDownloadStatus,
  version,
} from '../../crds/video-download.ts';
import { statusCodeOf } from './api-errors.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/**
 * A call on a VideoDownload that failed. code is the API server's HTTP status, undefined when
 * no answer came (a broken connection: the write may have happened); body is its Status.
 */
export class VideoDownloadsError extends Error {
  readonly code: number | undefined;
  readonly body: unknown;
  constructor(operation: string, error: unknown) {
    const code = statusCodeOf(error);
    super(
      `${operation}: ${code === undefined ? 'no answer' : `HTTP ${code}`}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
    this.name = 'VideoDownloadsError';
    this.code = code;
    this.body = (error as { body?: unknown } | undefined)?.body;
  }
}

export interface CreateOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set at creation, so the operator need not add them with a write of its own. */
  finalizers?: string[];
}

export class VideoDownloads {
  readonly namespace: string;
  private readonly objects: k8s.CustomObjectsApi;

  constructor(config: k8s.KubeConfig, namespace: string) {
    this.objects = config.makeApiClient(k8s.CustomObjectsApi);
    this.namespace = namespace;
  }

  create(name: string, spec: VideoDownloadSpecInput, options: CreateOptions = {}): Promise<VideoDownload> {
    const metadata = {
      name,
      labels: options.labels ?? {},
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(options.finalizers ? { finalizers: options.finalizers } : {}),
    };
    return this.call(`create ${this.key(name)}`, () =>
      this.objects.createNamespacedCustomObject({
        ...this.target(),
        body: { apiVersion, kind, metadata, spec },
      }),
    );
  }

  get(name: string): Promise<VideoDownload> {
    return this.call(`get ${this.key(name)}`, () =>
      this.objects.getNamespacedCustomObject({ ...this.target(), name }),
    );
  }

  async list(options: { labelSelector?: string } = {}): Promise<VideoDownload[]> {
    const list = await this.call<{ items: VideoDownload[] }>(`list VideoDownloads in ${this.namespace}`, () =>
      this.objects.listNamespacedCustomObject({ ...this.target(), ...options }),
    );
    return list.items;
  }

  /** Deletes the download; false when it was already gone, which is what the caller wanted. */
  async delete(name: string, options: { propagationPolicy?: 'Background' | 'Foreground' } = {}) {
    try {
      await this.call(`delete ${this.key(name)}`, () =>
        this.objects.deleteNamespacedCustomObject({ ...this.target(), name, ...options }),
      );
      return true;
    } catch (error) {
      if ((error as VideoDownloadsError).code === 404) return false;
      throw error;
    }
  }

  /** A merge patch of the status subresource: only the fields given change. */
  patchStatus(name: string, status: Partial<VideoDownloadStatus> | Record<string, unknown>) {
    return this.call<VideoDownload>(`patch the status of ${this.key(name)}`, () =>
      this.objects.patchNamespacedCustomObjectStatus(
        { ...this.target(), name, body: { status } },
        mergePatch,
      ),
    );
  }

  private target() {
    return { group, version, plural, namespace: this.namespace };
  }

  private key(name: string): string {
    return `VideoDownload ${this.namespace}/${name}`;
  }

  private async call<T = VideoDownload>(operation: string, request: () => Promise<unknown>): Promise<T> {
    try {
      return (await request()) as T;
    } catch (error) {
      throw new VideoDownloadsError(operation, error);
    }
  }
}
