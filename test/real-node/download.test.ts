// Downloads as users make them, on the real node: through the API behind
// `kubectl port-forward`, and with `kubectl apply`; each runs yt-dlp in a
// containerd container of the downloader image and uploads to the bundled
// MinIO. The media site is a pod of the cluster, let through the URL policy
// by the chart's api.allowedInternalHosts; nothing else internal is.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { kubeConfigFrom } from '../support/kube.ts';
import { kubectl, mediaNamespace, mediaPort, mediaServiceIp, namespace } from './cluster.ts';
import { type PortForward, portForward } from './port-forward.ts';

const kubeconfig = inject('realKubeconfig');
const apiKey = inject('realApiKey');
const config = kubeConfigFrom(kubeconfig);
const core = config.makeApiClient(k8s.CoreV1Api);
const custom = config.makeApiClient(k8s.CustomObjectsApi);
const mediaUrl = (path: string) => `http://${mediaServiceIp}:${mediaPort}${path}`;

let api: PortForward;
let storage: PortForward;
let media: PortForward;

beforeAll(async () => {
  [api, storage, media] = await Promise.all([
    portForward(kubeconfig, namespace, 'svc/vdl-api', 80),
    portForward(kubeconfig, namespace, 'svc/vdl-minio', 9000, inject('realStoragePort')),
    portForward(kubeconfig, mediaNamespace, 'svc/media-site', mediaPort),
  ]);
});

afterAll(() => {
  for (const forward of [api, storage, media]) forward?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function sha256Of(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex');
}

async function stateOf(id: string, wanted: string[], timeoutMs = 180_000) {
  return eventually(
    `${id} to be ${wanted.join(' or ')}`,
    async () => {
      const { json } = await call('GET', `/status/${id}`);
      return wanted.includes(json?.state) ? json : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

async function podsOfDownload(name: string): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `vdl.dev/download=${name}` });
  return pods.items;
}

describe('downloads on the real node', () => {
  it('POST /download runs to DONE in a containerd container, and the stored file has the source sha256', async () => {
    const submitted = await call('POST', '/download', { url: mediaUrl('/progressive.mp4') });
    expect(submitted.status).toBe(202);
    const id = submitted.json.job_id as string;
    const seenPods = eventually(
      `a download pod of ${id} with a container`,
      async () => {
        const pods = await podsOfDownload(id);
        const ids = pods.flatMap((pod) => (pod.status?.containerStatuses ?? []).map((c) => c.containerID));
        return ids.find((containerId) => containerId) ?? undefined;
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    expect(await seenPods).toMatch(/^containerd:\/\//);
    await stateOf(id, ['DONE']);
    const result = await call('GET', `/result/${id}`);
    expect(result.status).toBe(200);
    expect(result.json.url).toContain(storage.url);
    const expected = await sha256Of(`${media.url}/progressive.mp4`);
    expect(result.json.sha256).toBe(expected);
    expect(await sha256Of(result.json.url)).toBe(expected);
  });

  it('refuses an internal address the chart did not name, with a clear error', async () => {
    const refused = await call('POST', '/download', { url: `http://${mediaServiceIp}:9999/progressive.mp4` });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.json)).toMatch(/internal|private|not allowed/i);
  });

  it('kubectl apply of the example VideoDownload runs to Complete', async () => {
    const example = parse(
      await readFile(new URL('../../crds/examples/videodownload.yaml', import.meta.url), 'utf8'),
    );
    // The example names a public site; this machine has no internet, so it fetches from the media site.
    example.spec.url = mediaUrl('/progressive.mp4');
    delete example.spec.subtitles;
    await kubectl(['-n', namespace, 'apply', '-f', '-'], kubeconfig, stringify(example));
    await kubectl(
      [
        '-n',
        namespace,
        'wait',
        '--for=condition=Complete',
        '--timeout=180s',
        `videodownload/${example.metadata.name}`,
      ],
      kubeconfig,
    );
    const applied = (await custom.getNamespacedCustomObject({
      group: 'vdl.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'videodownloads',
      name: example.metadata.name,
    })) as { status?: { phase?: string; result?: { sha256?: string } } };
    expect(applied.status?.phase).toBe('Succeeded');
    expect(applied.status?.result?.sha256).toBe(await sha256Of(`${media.url}/progressive.mp4`));
  });

  it('cancel stops the running container', async () => {
    // Slowed to 20 KB/s so it is still running when cancelled.
    const submitted = await call('POST', '/download', {
      url: mediaUrl('/throttled-cancel.mp4'),
      limits: { rateLimit: '20K' },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.json.job_id as string;
    await eventually(
      `the container of ${id} to run`,
      async () =>
        (await podsOfDownload(id)).some((pod) => pod.status?.containerStatuses?.[0]?.state?.running) ||
        undefined,
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    const cancelled = await call('DELETE', `/downloads/${id}`);
    expect(cancelled.status).toBeLessThan(300);
    await eventually(
      `no running container of ${id}`,
      async () =>
        (await podsOfDownload(id)).every(
          (pod) => !pod.status?.containerStatuses?.some((c) => c.state?.running),
        ) || undefined,
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  });
});
