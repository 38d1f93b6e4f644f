// What happens to downloads when the cluster moves under them, on the real
// node: a real cgroup limit and OOM kill, the leading operator pod deleted,
// and `helm upgrade` rolling the operator and the API out mid-download.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { namespace, release } from './cluster.ts';
import {
  config,
  core,
  downloadObject,
  type Forwards,
  helmRelease,
  jobsOfDownload,
  mediaUrl,
  openForwards,
  stateOf,
  submit,
} from './users.ts';

const coordination = config.makeApiClient(k8s.CoordinationV1Api);
const upgrade = (extra: string[]) => helmRelease('upgrade', extra);

let forwards: Forwards;
beforeAll(async () => {
  forwards = await openForwards();
});
afterAll(() => forwards?.close());

async function leader(): Promise<string> {
  const lease = await coordination.readNamespacedLease({ name: `${release}-operator`, namespace });
  return lease.spec?.holderIdentity ?? '';
}

describe('the real node under change', () => {
  it('a download over its memory limit is OOM-killed by the kernel and fails saying it ran out of memory', async () => {
    // Node and yt-dlp together need well over 48Mi; the cgroup limit is the pod's.
    await upgrade(['downloader.requests.memory=48Mi', 'downloader.limits.memory=48Mi']);
    try {
      const id = await submit(forwards.api, { url: mediaUrl('/progressive.mp4'), retries: 0 });
      await stateOf(forwards.api, id, ['FAILED', 'DONE']);
      const failed = await downloadObject(id);
      expect(failed.status).toMatchObject({ phase: 'Failed', reason: 'OutOfMemory' });
      expect(failed.status?.message).toMatch(/ran out of memory.*48Mi/);
    } finally {
      await upgrade([]);
    }
  });

  it('deleting the leading operator pod hands over to the other replica, with no second Job', async () => {
    const id = await submit(forwards.api, {
      url: mediaUrl('/throttled-leader.mp4'),
      limits: { rateLimit: '300K' },
    });
    await eventually(
      `a Job for ${id}`,
      async () => ((await jobsOfDownload(id)).length === 1 ? true : undefined),
      {
        timeoutMs: 120_000,
      },
    );
    const before = await leader();
    expect(before).not.toBe('');
    await core.deleteNamespacedPod({ name: before, namespace });
    const after = await eventually(
      'another operator pod to lead',
      async () => {
        const now = await leader();
        return now && now !== before ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(after).not.toBe(before);
    await stateOf(forwards.api, id, ['DONE']);
    expect(await jobsOfDownload(id)).toHaveLength(1);
    expect((await downloadObject(id)).status?.attempts).toBe(1);
  });

  it('helm upgrade with a changed value rolls out while downloads run, and loses none', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map((n) =>
        submit(forwards.api, { url: mediaUrl(`/throttled-upgrade-${n}.mp4`), limits: { rateLimit: '300K' } }),
      ),
    );
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const generation = (await apps.readNamespacedDeployment({ name: `${release}-operator`, namespace }))
      .metadata?.generation;
    await upgrade(['operator.logLevel=debug', 'api.logLevel=debug']);
    const rolled = await apps.readNamespacedDeployment({ name: `${release}-operator`, namespace });
    expect(rolled.metadata?.generation).toBeGreaterThan(generation ?? 0);
    // The API pods were replaced too: a new port-forward reaches the new ones.
    forwards.close();
    forwards = await openForwards();
    for (const id of ids) {
      await stateOf(forwards.api, id, ['DONE']);
      expect(await jobsOfDownload(id)).toHaveLength(1);
    }
    await upgrade([]);
  });
});
