import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { NotificationStatus, VideoDownload } from '../../../crds/video-download.ts';
import { FakeClock } from '../../manager/fake-clock.ts';
import { download } from '../video-download/test-fixtures.ts';
import type { AttemptOutcome } from './delivery.ts';
import { NotifierReconciler } from './reconciler.ts';
import type { Post } from './sender.ts';
import { signingKey, verificationFailure } from './signature.ts';

const notify = { url: 'https://hooks.example.com/vdl', secretRef: { name: 'vdl-webhook-team' } };
const secret = 'whsec_c2VjcmV0LWtleQ==';

/** A cache of one download, whose status the fake patch updates (as the watch would, later). */
function setup(
  status: VideoDownload['status'],
  answers: AttemptOutcome[],
  secretName = notify.secretRef.name,
) {
  const clock = new FakeClock('2026-01-01T00:10:00Z');
  let current = download('clip', { notify: { ...notify, secretRef: { name: secretName } } }, { status });
  const posts: Post[] = [];
  const patches: NotificationStatus[] = [];
  const events: string[] = [];
  const attempted: string[] = [];
  const reconciler = new NotifierReconciler({
    downloads: { get: () => current, list: () => [current], byIndex: () => [] },
    settings: { maxAttempts: 3, backoffMs: 1000, backoffMaxMs: 4000 },
    signingKey: async (_namespace, name, key) => {
      if (name !== 'vdl-webhook-team' || key !== 'secret')
        throw new Error(`signing Secret ${name} not found`);
      return signingKey(secret);
    },
    send: async (post) => {
      posts.push(post);
      return answers.shift() ?? { delivered: true };
    },
    patchNotification: async (_namespace, _name, record) => {
      patches.push(record);
    },
    recorder: {
      record: async (_download, type, reason) => {
        events.push(`${type} ${reason}`);
      },
    },
    attempted: (state) => attempted.push(state),
    clock,
    logger: pino({ level: 'silent' }),
  });
  const catchUp = () => {
    current = { ...current, status: { ...current.status, notification: patches.at(-1) } };
  };
  return { reconciler, clock, posts, patches, events, attempted, catchUp };
}

describe('webhook notifier reconcile', () => {
  it('sends nothing and writes nothing for a download without a webhook or not finished', async () => {
    const t = setup({ phase: 'Running' }, []);
    expect(await t.reconciler.reconcile('team/clip')).toEqual({});
    expect([t.posts, t.patches, t.events]).toEqual([[], [], []]);
  });

  it('sends one signed event when the download succeeded, records it and tells it in an Event', async () => {
    const t = setup({ phase: 'Succeeded', completionTime: '2026-01-01T00:09:00Z' }, [{ delivered: true }]);
    expect(await t.reconciler.reconcile('team/clip')).toEqual({});
    expect(t.posts).toHaveLength(1);
    const [post] = t.posts as [Post];
    expect(
      verificationFailure(signingKey(secret), post.headers, post.body, t.clock.now() / 1000),
    ).toBeUndefined();
    expect(post.headers['webhook-id']).toBe('vdl_uid-clip_done');
    expect(t.patches).toEqual([{ state: 'Delivered', attempts: 1, deliveredAt: '2026-01-01T00:10:00Z' }]);
    expect(t.events).toEqual(['Normal NotificationDelivered']);
  });

  it('does not send twice while the cache has not yet seen its own record', async () => {
    const t = setup({ phase: 'Succeeded' }, [{ delivered: true }]);
    await t.reconciler.reconcile('team/clip');
    await t.reconciler.reconcile('team/clip');
    expect(t.posts).toHaveLength(1);
    t.catchUp();
    await t.reconciler.reconcile('team/clip');
    expect(t.posts).toHaveLength(1);
  });

  it('retries after the backoff until delivered, then stops', async () => {
    const down = { delivered: false as const, error: 'hooks.example.com: ECONNREFUSED' };
    const t = setup({ phase: 'Failed' }, [down, down, { delivered: true }]);
    expect(await t.reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 1000 });
    // Requeued early (another change of the download): nothing is sent before it is due.
    t.catchUp();
    expect(await t.reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 1000 });
    t.clock.advance(1000);
    expect(await t.reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 2000 });
    t.clock.advance(2000);
    expect(await t.reconciler.reconcile('team/clip')).toEqual({});
    expect(t.posts.map((post) => post.headers['webhook-id'])).toEqual(Array(3).fill('vdl_uid-clip_failed'));
    expect(t.patches.map((p) => `${p.state} ${p.attempts}`)).toEqual([
      'Retrying 1',
      'Retrying 2',
      'Delivered 3',
    ]);
    expect(t.events).toEqual(['Warning NotificationRetrying', 'Normal NotificationDelivered']);
    expect(t.attempted).toEqual(['Retrying', 'Retrying', 'Delivered']);
  });

  it('gives up after the last attempt, saying why', async () => {
    const down = { delivered: false as const, error: 'hooks.example.com answered 503' };
    const t = setup({ phase: 'Succeeded' }, [down, down, down]);
    for (const wait of [1000, 2000]) {
      await t.reconciler.reconcile('team/clip');
      t.clock.advance(wait);
    }
    expect(await t.reconciler.reconcile('team/clip')).toEqual({});
    expect(t.patches.at(-1)).toEqual({
      state: 'Failed',
      attempts: 3,
      lastError: 'hooks.example.com answered 503',
    });
    expect(t.events.at(-1)).toBe('Warning NotificationFailed');
    t.clock.advance(60_000);
    await t.reconciler.reconcile('team/clip');
    expect(t.posts).toHaveLength(3);
  });

  it('counts a missing signing Secret as a failed attempt, retried (it may be created later)', async () => {
    const t = setup({ phase: 'Succeeded' }, [], 'vdl-webhook-gone');
    expect(await t.reconciler.reconcile('team/clip')).toEqual({ requeueAfterMs: 1000 });
    expect(t.posts).toEqual([]);
    expect(t.patches).toEqual([
      expect.objectContaining({
        state: 'Retrying',
        attempts: 1,
        lastError: 'signing Secret vdl-webhook-gone not found',
      }),
    ]);
  });
});
