import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { labels, type VideoDownload } from '../../../../crds/video-download.ts';
import { MemoryCache } from '../../../manager/memory-cache.ts';
import { downloadNameAnnotation } from '../desired-job.ts';
import { download } from '../test-fixtures.ts';
import { Admission } from './admission.ts';

/** A download of owner, created at second `at`. */
function waiting(name: string, owner: string, at: number): VideoDownload {
  const made = download(name);
  made.metadata.labels = { [labels.owner]: owner };
  made.metadata.creationTimestamp = new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString();
  return made;
}

function jobOf(name: string, finished = false): V1Job {
  return {
    metadata: { name, namespace: 'team', annotations: { [downloadNameAnnotation]: name } },
    status: finished ? { conditions: [{ type: 'Complete', status: 'True' }] } : {},
  };
}

function setup(downloads: VideoDownload[], limits = { maxActive: 2, maxActivePerOwner: 2 }) {
  const caches = { downloads: new MemoryCache(downloads), jobs: new MemoryCache<V1Job>() };
  const enqueued: string[] = [];
  const admission = new Admission({ ...caches, limits, enqueue: (key) => enqueued.push(key) });
  const tryAdmit = (name: string) =>
    admission.tryAdmit(caches.downloads.get(`team/${name}`) as VideoDownload);
  return { caches, enqueued, admission, tryAdmit };
}

describe('Admission', () => {
  it.each([
    ['all fit', { maxActive: 3, maxActivePerOwner: 3 }, ['admitted', 'admitted', 'admitted']],
    ['the global limit holds', { maxActive: 1, maxActivePerOwner: 3 }, ['admitted', 'queued', 'queued']],
    [
      'the fewest running goes first',
      { maxActive: 2, maxActivePerOwner: 3 },
      ['admitted', 'queued', 'admitted'],
    ],
    ['the per-owner limit holds', { maxActive: 3, maxActivePerOwner: 1 }, ['admitted', 'queued', 'admitted']],
    ['a full house queues everyone', { maxActive: 0, maxActivePerOwner: 3 }, ['queued', 'queued', 'queued']],
  ])('%s (%j): alice-1, alice-2, bob-1 in turn', (_case, limits, expected) => {
    const { tryAdmit } = setup(
      [waiting('alice-1', 'alice', 1), waiting('alice-2', 'alice', 2), waiting('bob-1', 'bob', 3)],
      limits,
    );
    expect(['alice-1', 'alice-2', 'bob-1'].map(tryAdmit)).toEqual(expected);
  });

  it('keeps the slot of an admitted download until its Job is cached, and never admits it twice', () => {
    const { caches, admission, tryAdmit } = setup([
      waiting('a', 'o', 1),
      waiting('b', 'o', 2),
      waiting('c', 'o', 3),
    ]);
    expect(tryAdmit('a')).toBe('admitted');
    expect(tryAdmit('b')).toBe('admitted');
    expect(admission.pending('team/a')).toBe(true);
    // Neither Job is in the cache yet: they hold their slots all the same.
    expect(tryAdmit('c')).toBe('queued');
    caches.jobs.put(jobOf('a'));
    caches.jobs.put(jobOf('b'));
    admission.settled('team/a');
    admission.settled('team/b');
    expect(tryAdmit('c')).toBe('queued');
  });

  it('frees the slot of a download whose Job could not be created', () => {
    const { admission, tryAdmit } = setup([waiting('a', 'o', 1), waiting('b', 'o', 2), waiting('c', 'o', 3)]);
    tryAdmit('a');
    tryAdmit('b');
    expect(tryAdmit('c')).toBe('queued');
    admission.createFailed('team/a');
    expect(admission.pending('team/a')).toBe(false);
    // The slot is free again, for the oldest waiting: a itself, on its retry.
    expect(tryAdmit('c')).toBe('queued');
    expect(tryAdmit('a')).toBe('admitted');
  });

  it('on release queues the downloads a freed slot admits, in fair order', () => {
    const { caches, enqueued, admission, tryAdmit } = setup([
      waiting('a', 'alice', 1),
      waiting('b', 'alice', 2),
      waiting('c', 'alice', 3),
      waiting('d', 'bob', 4),
    ]);
    tryAdmit('a');
    tryAdmit('b');
    caches.jobs.put(jobOf('a'));
    caches.jobs.put(jobOf('b'));
    admission.released();
    expect(enqueued).toEqual([]);
    caches.jobs.put(jobOf('a', true));
    admission.released();
    // bob runs nothing, alice one: bob's download goes first, though alice's is older.
    expect(enqueued).toEqual(['team/d']);
    expect(tryAdmit('c')).toBe('queued');
    expect(tryAdmit('d')).toBe('admitted');
  });
});
