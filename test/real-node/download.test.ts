// Downloads as users make them, on the real node: through the API behind
// `kubectl port-forward`, and with `kubectl apply`; each runs yt-dlp in a
// containerd container of the downloader image and uploads to the bundled
// MinIO. The media site is a pod of the cluster, let through the URL policy
// by the chart's api.allowedInternalHosts; nothing else internal is.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually } from '../support/eventually.ts';
import { kubectl, mediaServiceIp, namespace } from './cluster.ts';
import {
  call,
  downloadObject,
  type Forwards,
  kubeconfig,
  mediaUrl,
  openForwards,
  podsOfDownload,
  sha256Of,
  stateOf,
  submit,
} from './users.ts';

let forwards: Forwards;
beforeAll(async () => {
  forwards = await openForwards();
});
afterAll(() => forwards?.close());

describe('downloads on the real node', () => {
  it('POST /download runs to DONE in a containerd container, and the stored file has the source sha256', async () => {
    const { api, storage, media } = forwards;
    const id = await submit(api, { url: mediaUrl('/progressive.mp4') });
    const containerId = await eventually(
      `a download pod of ${id} with a container`,
      async () => {
        const pods = await podsOfDownload(id);
        return pods
          .flatMap((pod) => (pod.status?.containerStatuses ?? []).map((c) => c.containerID))
          .find(Boolean);
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    expect(containerId).toMatch(/^containerd:\/\//);
    await stateOf(api, id, ['DONE']);
    const result = await call(api, 'GET', `/result/${id}`);
    expect(result.status).toBe(200);
    expect(result.json.url).toContain(storage.url);
    const expected = await sha256Of(`${media.url}/progressive.mp4`);
    expect(result.json.sha256).toBe(expected);
    expect(await sha256Of(result.json.url)).toBe(expected);
  });

  it('refuses an internal address the chart did not name, with a clear error', async () => {
    const refused = await call(forwards.api, 'POST', '/download', {
      url: `http://${mediaServiceIp}:9999/progressive.mp4`,
    });
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
    const applied = await downloadObject(example.metadata.name);
    expect(applied.status?.phase).toBe('Succeeded');
    expect(applied.status?.result?.sha256).toBe(await sha256Of(`${forwards.media.url}/progressive.mp4`));
  });

  it('cancel stops the running container', async () => {
    // Slowed to 20 KB/s so it is still running when cancelled.
    const id = await submit(forwards.api, {
      url: mediaUrl('/throttled-cancel.mp4'),
      limits: { rateLimit: '20K' },
    });
    await eventually(
      `the container of ${id} to run`,
      async () =>
        (await podsOfDownload(id)).some((pod) => pod.status?.containerStatuses?.[0]?.state?.running) ||
        undefined,
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    const cancelled = await call(forwards.api, 'DELETE', `/downloads/${id}`);
    expect(cancelled.status).toBe(202);
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
