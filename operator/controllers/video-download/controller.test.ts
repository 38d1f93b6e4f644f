import type { V1Job } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CachedObject } from '../../../lib/kube/informer.ts';
import { loadOperatorConfig } from '../../config.ts';
import type { ControllerContext, Watch } from '../../manager/controller.ts';
import { FakeClock } from '../../manager/fake-clock.ts';
import type { MemoryCache } from '../../manager/memory-cache.ts';
import { downloads, jobs, pods, slimJob, slimPod, videoDownloadController } from './controller.ts';
import { downloadNameAnnotation } from './desired-job.ts';
import { FakeCluster, fakeObjectStore } from './fake-cluster.ts';
import { download } from './test-fixtures.ts';

/** The controller set up on in-memory caches, as the manager would set it up. */
function setup(leading: boolean) {
  const clock = new FakeClock();
  const cluster = new FakeCluster(clock);
  const caches = new Map<string, unknown>([
    [downloads.name, cluster.downloads],
    [jobs.name, cluster.jobs],
    [pods.name, cluster.pods],
  ]);
  const enqueued: string[] = [];
  const context: ControllerContext = {
    cache: <T extends CachedObject>(watch: Watch<T>) => caches.get(watch.name) as unknown as MemoryCache<T>,
    enqueue: (key) => enqueued.push(key),
    leading: () => leading,
    clock,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
  };
  const controller = videoDownloadController({
    config: loadOperatorConfig({}, { s3Endpoint: 'http://minio:9000', maxActiveDownloads: 1 }),
    writes: cluster,
    recorder: cluster,
    objectStore: fakeObjectStore(cluster.writes),
    logger: context.logger,
  });
  const reconcile = controller.setup(context);
  return { controller, cluster, enqueued, reconcile };
}

function jobOf(name: string, conditions: V1Job['status'] = {}): V1Job {
  return {
    metadata: { name, namespace: 'team', annotations: { [downloadNameAnnotation]: name } },
    status: conditions,
  };
}
const complete = { conditions: [{ type: 'Complete', status: 'True' }] };

describe('the VideoDownload controller', () => {
  it('is for VideoDownloads and owns their Jobs and pods, mapped back by the download name', () => {
    const { controller } = setup(true);
    expect(controller.for).toBe(downloads);
    expect(controller.owns.map((owned) => owned.watch.name)).toEqual(['jobs', 'pods']);
    for (const owned of controller.owns) expect(owned.ownerKeyOf(jobOf('clip'))).toBe('team/clip');
    expect(controller.owns[0]?.ownerKeyOf({ metadata: { name: 'x', namespace: 'team' } })).toBeUndefined();
  });

  it.each([
    ['a Job that just finished', 'MODIFIED', complete, {}, true, ['team/next']],
    ['a Job that finished before', 'MODIFIED', complete, complete, true, []],
    ['a Job that went', 'DELETED', {}, {}, true, ['team/next']],
    ['a running Job changing', 'MODIFIED', { active: 1 }, {}, true, []],
    ['a Job that just finished, on a standby', 'MODIFIED', complete, {}, false, []],
  ] as const)(
    '%s: admission queues whom a freed slot admits',
    async (_case, type, now, before, leading, expected) => {
      const { controller, cluster, enqueued, reconcile } = setup(leading);
      const first = download('first');
      const next = download('next');
      next.metadata.creationTimestamp = '2026-01-01T00:01:00Z';
      cluster.downloads.put(first);
      cluster.downloads.put(next);
      // first runs and holds the only slot; next waits for it.
      await reconcile('team/first');
      await reconcile('team/next');
      const job = { ...jobOf('first', now), metadata: { ...jobOf('first').metadata, uid: 'job-uid-1' } };
      if (type === 'DELETED') cluster.downloads.delete('team/first');
      else cluster.jobs.put(job);
      controller.owns[0]?.onChange?.(type, job, jobOf('first', before), 'team/first');
      expect(enqueued).toEqual(expected);
    },
  );
});

describe('the cached Jobs and pods', () => {
  // status.ts keeps a finished download's record while its Job is being deleted
  // (its pods go first): the cache must keep what that decision reads.
  it('keep identity, owners and deletionTimestamp, and drop the pod template', () => {
    const deletionTimestamp = new Date('2026-01-01T00:02:00Z');
    const metadata = {
      name: 'clip',
      namespace: 'team',
      uid: 'u',
      ownerReferences: [{ apiVersion: 'vdl.dev/v1alpha1', kind: 'VideoDownload', name: 'clip', uid: 'd' }],
      deletionTimestamp,
      managedFields: [{ manager: 'kube-controller-manager' }],
    };
    const job = slimJob({ metadata, spec: { template: { spec: { containers: [] } } } } as V1Job);
    expect(job.metadata).toMatchObject({
      uid: 'u',
      deletionTimestamp,
      ownerReferences: metadata.ownerReferences,
    });
    expect(job.metadata?.managedFields).toBeUndefined();
    expect(job.spec?.template).toEqual({});
    expect(slimPod({ metadata }).metadata?.deletionTimestamp).toEqual(deletionTimestamp);
  });
});
