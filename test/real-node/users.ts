// What the real-node tests do as users do: reach the API, MinIO and the media
// site through `kubectl port-forward`, call the REST API with a key, and wait
// on what it reports.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { expect, inject } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { helm, mediaNamespace, mediaPort, mediaServiceIp, namespace, release } from './cluster.ts';
import { type PortForward, portForward } from './port-forward.ts';

export const kubeconfig = inject('realKubeconfig');
const apiKey = inject('realApiKey');
export const config = kubeConfigFrom(kubeconfig);
export const core = config.makeApiClient(k8s.CoreV1Api);
export const batch = config.makeApiClient(k8s.BatchV1Api);
export const custom = config.makeApiClient(k8s.CustomObjectsApi);

/** A URL of the in-cluster media site, as the download pods reach it. */
export const mediaUrl = (path: string) => `http://${mediaServiceIp}:${mediaPort}${path}`;

export interface Forwards {
  api: PortForward;
  storage: PortForward;
  media: PortForward;
  /** Stops the three; resolves once their local ports are free. */
  close(): Promise<void>;
}

export async function openForwards(): Promise<Forwards> {
  const [api, storage, media] = await Promise.all([
    portForward(kubeconfig, namespace, 'svc/vdl-api', 80),
    portForward(kubeconfig, namespace, 'svc/vdl-minio', 9000, inject('realStoragePort')),
    portForward(kubeconfig, mediaNamespace, 'svc/media-site', mediaPort),
  ]);
  const close = async () => {
    await Promise.all([api, storage, media].map((forward) => forward.close()));
  };
  return { api, storage, media, close };
}

/** A response body of the API: the tests read the fields each route documents. */
// biome-ignore lint/suspicious/noExplicitAny: JSON of several routes, checked by the assertions that read it
type ApiBody = any;

export async function call(
  api: PortForward,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: ApiBody }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

export async function submit(api: PortForward, body: Record<string, unknown>): Promise<string> {
  const submitted = await call(api, 'POST', '/download', body);
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  return submitted.json.job_id as string;
}

export async function sha256Of(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex');
}

/** Polls GET /status/{id} until its state is one of wanted. */
export async function stateOf(api: PortForward, id: string, wanted: string[], timeoutMs = 180_000) {
  return eventually(
    `${id} to be ${wanted.join(' or ')}`,
    async () => {
      const { json } = await call(api, 'GET', `/status/${id}`);
      return wanted.includes(json?.state) ? json : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

export async function podsOfDownload(name: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `vdl.dev/download=${name}` })).items;
}

export async function jobsOfDownload(name: string): Promise<k8s.V1Job[]> {
  return (await batch.listNamespacedJob({ namespace, labelSelector: `vdl.dev/download=${name}` })).items;
}

export async function downloadObject(name: string) {
  return (await custom.getNamespacedCustomObject({
    group: 'vdl.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'videodownloads',
    name,
  })) as {
    status?: {
      phase?: string;
      reason?: string;
      message?: string;
      attempts?: number;
      jobName?: string;
      result?: { sha256?: string };
    };
  };
}

/** The chart of this worktree, as the release was installed from. */
export const chart = join(fileURLToPath(new URL('../../', import.meta.url)), 'charts/vdl');

/**
 * helm install or upgrade of the release with the install's values plus
 * these, waiting for the rollout; from this worktree's chart unless another is given.
 */
export async function helmRelease(
  verb: 'install' | 'upgrade',
  extra: string[] = [],
  chartDir = chart,
): Promise<void> {
  const values = [...inject('realChartValues'), ...extra];
  await helm(
    [
      verb,
      release,
      chartDir,
      '--namespace',
      namespace,
      ...values.flatMap((v) => ['--set', v]),
      '--wait',
      '--timeout',
      '5m',
    ],
    kubeconfig,
  );
}
