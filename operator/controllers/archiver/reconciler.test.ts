import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ArchiveStatus, VideoDownload } from '../../../crds/video-download.ts';
import { FakeClock } from '../../manager/fake-clock.ts';
import { download } from '../video-download/test-fixtures.ts';
import { ArchiverReconciler } from './reconciler.ts';

/** A cache of one download whose status the fake patch updates; an archive that fails while down is true. */
function setup(status: VideoDownload['status']) {
  let current: VideoDownload | undefined = download('clip', {}, { status });
  const recorded: string[] = [];
  const patches: ArchiveStatus[] = [];
  const archive = { down: false };
  const reconciler = new ArchiverReconciler({
    downloads: { get: () => current, list: () => (current ? [current] : []), byIndex: () => [] },
    archive: {
      async record(d) {
        if (archive.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        recorded.push(d.metadata.uid as string);
      },
      deleteFinishedBefore: async () => 0,
    },
    async patchArchive(_namespace, _name, record) {
      patches.push(record);
      if (current) current = { ...current, status: { ...current.status, archive: record } };
    },
    retryMs: 5_000,
    clock: new FakeClock('2026-01-01T00:10:00Z'),
    logger: pino({ level: 'silent' }),
  });
  return {
    reconciler,
    recorded,
    patches,
    archive,
    replace: (next: VideoDownload | undefined) => {
      current = next;
    },
  };
}

const done = { phase: 'Succeeded' as const, completionTime: '2026-01-01T00:09:00Z', jobName: 'clip' };

describe('ArchiverReconciler', () => {
  it('archives nothing before the download finished', async () => {
    const { reconciler, recorded } = setup({ phase: 'Running', jobName: 'clip' });
    expect(await reconciler.reconcile('team/clip')).toEqual({});
    expect(recorded).toEqual([]);
  });

  it('archives a finished download once, writing nothing to its status', async () => {
    const { reconciler, recorded, patches } = setup(done);
    await reconciler.reconcile('team/clip');
    await reconciler.reconcile('team/clip');
    expect(recorded).toEqual(['uid-clip']);
    expect(patches).toEqual([]);
  });

  it('says once why it could not, retries, and says once that it did', async () => {
    const { reconciler, recorded, patches, archive } = setup(done);
    archive.down = true;
    expect(await reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 5_000 });
    expect(await reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 5_000 });
    expect(patches).toEqual([
      {
        state: 'Failing',
        reason: 'ArchiveUnavailable',
        message: 'connect ECONNREFUSED 127.0.0.1:5432',
        since: '2026-01-01T00:10:00Z',
      },
    ]);
    archive.down = false;
    expect(await reconciler.reconcile('team/clip')).toEqual({});
    expect(recorded).toEqual(['uid-clip']);
    expect(patches.at(-1)).toEqual({ state: 'Archived', since: '2026-01-01T00:10:00Z' });
    expect(patches).toHaveLength(2);
  });

  it('archives a new download of a name used before, once the old one went', async () => {
    const { reconciler, recorded, replace } = setup(done);
    await reconciler.reconcile('team/clip');
    replace(undefined);
    expect(await reconciler.reconcile('team/clip')).toEqual({});
    const again = download('clip', {}, { status: done });
    again.metadata.uid = 'uid-clip-2';
    replace(again);
    await reconciler.reconcile('team/clip');
    expect(recorded).toEqual(['uid-clip', 'uid-clip-2']);
  });
});
