// downloader.podTemplate on the real node: a release upgraded with a node
// selector, a toleration and pod labels for download pods hands them through
// the operator (VDL_DOWNLOAD_POD_TEMPLATE) to the pod of the next download,
// which the scheduler still places and which runs to DONE and exits Succeeded; its pull policy
// is the chart's image.pullPolicy (Never here), no longer a fixed IfNotPresent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import {
  type Forwards,
  helmRelease,
  mediaUrl,
  openForwards,
  podsOfDownload,
  stateOf,
  submit,
} from './users.ts';

let forwards: Forwards | undefined;
beforeAll(async () => {
  await helmRelease('upgrade', [
    'downloader.podTemplate.nodeSelector.kubernetes\\.io/os=linux',
    'downloader.podTemplate.tolerations[0].key=vdl.example.com/downloads',
    'downloader.podTemplate.tolerations[0].operator=Exists',
    'downloader.podTemplate.tolerations[0].effect=NoSchedule',
    'downloader.podTemplate.podLabels.cost-center=video',
    'downloader.podTemplate.podAnnotations.example\\.com/owner=media',
  ]);
  forwards = await openForwards();
}, 360_000);
afterAll(async () => {
  forwards?.close();
  // Back to the install's values, as the other files of this project expect the release.
  await helmRelease('upgrade');
}, 360_000);

describe('downloader.podTemplate on the real node', () => {
  it("puts the cluster's scheduling settings and labels on download pods, which still run to DONE", async () => {
    if (!forwards) throw new Error('no port-forwards');
    const id = await submit(forwards.api, { url: mediaUrl('/progressive.mp4') });
    await stateOf(forwards.api, id, ['DONE']);
    // DONE is written as soon as the file is found stored, so the pod may still be
    // exiting; it must still end Succeeded.
    const pod = await eventually(
      `the pod of ${id} to succeed`,
      async () => (await podsOfDownload(id)).find((each) => each.status?.phase === 'Succeeded'),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(pod?.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod?.spec?.tolerations).toContainEqual({
      key: 'vdl.example.com/downloads',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    expect(pod?.metadata?.labels).toMatchObject({
      'cost-center': 'video',
      'app.kubernetes.io/managed-by': 'vdl-operator',
      'app.kubernetes.io/component': 'downloader',
    });
    expect(pod?.metadata?.annotations?.['example.com/owner']).toBe('media');
    expect(pod?.spec?.containers[0]?.imagePullPolicy).toBe('Never');
  });
});
