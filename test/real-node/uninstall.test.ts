// helm uninstall on the real node: its pre-delete hook stops the operator,
// puts the running download back in Queued and removes every download Job and
// pod; Helm keeps the CRD, so the downloads stay, and installing the chart
// again runs the interrupted one to DONE. The release is back at the end, as
// the other files of this project expect it.
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { downloadSelector } from '../../operator/uninstall/drain.ts';
import { eventually } from '../support/eventually.ts';
import { helm, namespace, release } from './cluster.ts';
import {
  batch,
  call,
  config,
  core,
  downloadObject,
  helmRelease,
  kubeconfig,
  mediaUrl,
  openForwards,
  podsOfDownload,
  sha256Of,
  stateOf,
  submit,
} from './users.ts';

const install = () => helmRelease('install');

describe('helm uninstall on the real node', () => {
  it('leaves no Job or pod, keeps the CRD and the downloads, and a new install runs the interrupted one', async () => {
    let forwards = await openForwards();
    let reinstalled = false;
    try {
      const finished = await submit(forwards.api, { url: mediaUrl('/progressive.mp4') });
      await stateOf(forwards.api, finished, ['DONE']);
      const interrupted = await submit(forwards.api, {
        url: mediaUrl('/throttled-noisy-uninstall.mp4'),
        // About 13 MB at 500K/s: still running when the drain stops it, well after the operator stopped.
        limits: { rateLimit: '500K' },
      });
      await eventually(
        `a running download pod of ${interrupted}`,
        async () =>
          (await podsOfDownload(interrupted)).some((pod) => pod.status?.phase === 'Running')
            ? true
            : undefined,
        { timeoutMs: 180_000, intervalMs: 250 },
      );
      const source = await sha256Of(`${forwards.media.url}/throttled-noisy-uninstall.mp4`);
      forwards.close();

      await helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '5m'], kubeconfig);

      // The drain waited for them: none is left the moment uninstall returns.
      expect((await batch.listNamespacedJob({ namespace })).items.map((job) => job.metadata?.name)).toEqual(
        [],
      );
      expect((await core.listNamespacedPod({ namespace, labelSelector: downloadSelector })).items).toEqual(
        [],
      );
      // The release's own pods (operator, API, MinIO) are deleted by Helm and stop within their grace period.
      await eventually(
        'no pod left in the release namespace',
        async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined),
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
      expect(
        (await extensions.readCustomResourceDefinition({ name: 'videodownloads.vdl.dev' })).metadata?.name,
      ).toBe('videodownloads.vdl.dev');
      expect((await downloadObject(finished)).status?.phase).toBe('Succeeded');
      const queued = await downloadObject(interrupted);
      expect(queued.status).toMatchObject({ phase: 'Queued', reason: 'Interrupted' });
      expect(queued.status?.jobName).toBeUndefined();

      await install();
      reinstalled = true;
      forwards = await openForwards();
      await stateOf(forwards.api, interrupted, ['DONE']);
      const result = await call(forwards.api, 'GET', `/result/${interrupted}`);
      expect(result.json.sha256).toBe(source);
      expect(await sha256Of(result.json.url)).toBe(source);
    } finally {
      forwards.close();
      if (!reinstalled) {
        const releases = await helm(['list', '--namespace', namespace, '--short'], kubeconfig);
        if (!releases.split('\n').includes(release)) await install();
      }
    }
  });
});
