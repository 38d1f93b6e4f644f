import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { VideoDownloadStatus } from '../../../crds/video-download.ts';
import { statusPatch } from './reconciler.ts';
import { conditionsFor, desiredStatus, podsOfJob, reportToVerify, transitionEvent } from './status.ts';
import { download, job, pod } from './test-fixtures.ts';

const now = new Date('2026-01-01T00:02:00Z');
const bucket = 'vdl';

/** Which of the conditions are True, by type. */
function trueConditions(status: VideoDownloadStatus): string[] {
  return (status.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);
}
const prefix = 'team/clip/uid-clip/';
const result = {
  bucket: 'vdl',
  key: `${prefix}clip.mp4`,
  size: 1234,
  sha256: 'a'.repeat(64),
  contentType: 'video/mp4',
  title: 'A clip',
};
const succeededPod = pod('Succeeded', { exitCode: 0, message: JSON.stringify({ result }) });

/** The patch a later reconcile would make of a recorded status, the Job and pods being as given. */
function laterPatch(recorded: VideoDownloadStatus, theJob: V1Job | undefined, pods: readonly V1Pod[]) {
  const later = desiredStatus({
    download: download('clip', {}, { status: recorded }),
    job: theJob,
    pods: [...pods],
    admitted: false,
    bucket,
    now: new Date('2026-01-01T00:09:00Z'),
  });
  return statusPatch(recorded, later);
}

describe('desiredStatus', () => {
  it.each([
    ['no Job, over the limit', undefined, [], false, 'Queued'],
    ['no Job, admitted', undefined, [], true, 'Pending'],
    // Running from the Job's creation: the pod's start is no write of the operator's.
    ['Job without running pod', job(), [pod('Pending')], false, 'Running'],
    ['Job with a running pod', job([], { active: 1 }), [pod('Running')], false, 'Running'],
    [
      'pod done, Job not yet complete',
      job([], { active: 0 }),
      [pod('Succeeded', { exitCode: 0 })],
      false,
      'Running',
    ],
    [
      'first attempt failed, retry pending',
      job([], { failed: 1 }),
      [pod('Failed', { exitCode: 1 }), pod('Pending', undefined, '2026-01-01T00:00:30Z')],
      false,
      'Running',
    ],
  ] as const)('%s → %s', (_name, theJob, pods, admitted, phase) => {
    const status = desiredStatus({
      download: download(),
      job: theJob,
      pods: [...pods],
      admitted,
      bucket,
      now,
    });
    expect(status.phase).toBe(phase);
    expect(status.observedGeneration).toBe(1);
    // kstatus reads Reconciling=True as InProgress.
    expect(trueConditions(status)).toEqual(['Reconciling']);
    expect(status.conditions?.every((c) => c.observedGeneration === 1)).toBe(true);
  });

  it('records the result and a Complete condition when the Job completes', () => {
    const status = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }], { succeeded: 1 }),
      pods: [succeededPod],
      admitted: false,
      bucket,
      now,
    });
    expect(status).toMatchObject({
      phase: 'Succeeded',
      result,
      jobName: 'clip',
      attempts: 1,
      startTime: '2026-01-01T00:00:05Z',
      completionTime: '2026-01-01T00:01:00Z',
      progress: { stage: 'done', percent: 100, title: 'A clip' },
    });
    expect(status.conditions).toEqual(
      ['Ready', 'Reconciling', 'Stalled', 'Complete', 'Failed'].map((type) =>
        expect.objectContaining({
          type,
          status: type === 'Ready' || type === 'Complete' ? 'True' : 'False',
          reason: 'Downloaded',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-01T00:02:00Z',
        }),
      ),
    );
  });

  it("refuses a result that points outside the download's own bucket and prefix", () => {
    for (const bad of [
      { key: 'team/other/uid-other/x.mp4' },
      { key: `${prefix}../../other/x.mp4` },
      { bucket: 'someone-elses' },
    ]) {
      const badPod = pod('Succeeded', {
        exitCode: 0,
        message: JSON.stringify({ result: { ...result, ...bad } }),
      });
      const status = desiredStatus({
        download: download(),
        job: job([{ type: 'Complete' }]),
        pods: [badPod],
        admitted: false,
        bucket,
        now,
      });
      expect(status).toMatchObject({ phase: 'Failed', reason: 'InvalidResult' });
    }
  });

  it('fails with ResultMissing when a completed Job left no result', () => {
    const silent = pod('Succeeded', { exitCode: 0, message: 'not json' });
    const status = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }]),
      pods: [silent],
      admitted: false,
      bucket,
      now,
    });
    expect(status).toMatchObject({ phase: 'Failed', reason: 'ResultMissing' });
    expect(status.conditions?.find((c) => c.type === 'Failed')).toMatchObject({
      status: 'True',
      reason: 'ResultMissing',
    });
  });

  it.each([
    [
      "the downloader's own reason first",
      { type: 'Failed', reason: 'PodFailurePolicy', message: 'Container downloader exited 42' },
      [
        pod('Failed', {
          exitCode: 42,
          message: JSON.stringify({ error: { reason: 'UnsupportedURL', message: 'no extractor' } }),
        }),
      ],
      { reason: 'UnsupportedURL', message: 'no extractor' },
    ],
    [
      'a permanent failure without a message',
      { type: 'Failed', reason: 'PodFailurePolicy', message: 'Container downloader exited 42' },
      [pod('Failed', { exitCode: 42 })],
      { reason: 'PermanentFailure', message: 'Container downloader exited 42' },
    ],
    [
      'the deadline',
      { type: 'Failed', reason: 'DeadlineExceeded' },
      [],
      { reason: 'DeadlineExceeded', message: 'the download did not finish within its deadline' },
    ],
    [
      'retries used up, naming the last exit',
      { type: 'Failed', reason: 'BackoffLimitExceeded' },
      [pod('Failed', { exitCode: 1, reason: 'Error' })],
      {
        reason: 'RetriesExhausted',
        message: 'the download failed on every attempt (last attempt: exit code 1, Error)',
      },
    ],
    [
      'running out of memory even where the downloader blamed the tool the kernel killed',
      { type: 'Failed', reason: 'BackoffLimitExceeded' },
      [
        pod('Failed', {
          exitCode: 1,
          reason: 'OOMKilled',
          message: JSON.stringify({
            error: { reason: 'DownloadFailed', message: 'yt-dlp was killed by SIGKILL' },
          }),
        }),
      ],
      { reason: 'OutOfMemory', message: expect.stringContaining('exit code 1') },
    ],
    [
      'running out of memory, in words a user can act on',
      { type: 'Failed', reason: 'BackoffLimitExceeded' },
      [pod('Failed', { exitCode: 137, reason: 'OOMKilled' })],
      {
        reason: 'OutOfMemory',
        message: expect.stringMatching(
          /^the download ran out of memory: .* limit of 1Gi .*downloader\.limits\.memory/,
        ),
      },
    ],
  ])('a failed Job reports %s', (_name, condition, pods, expected) => {
    const status = desiredStatus({
      download: download(),
      job: job([condition]),
      pods,
      admitted: false,
      bucket,
      now,
    });
    // completionTime: when the Job failed, however late the operator looks.
    expect(status).toMatchObject({ phase: 'Failed', ...expected, completionTime: '2026-01-01T00:01:00Z' });
    // kstatus reads Stalled=True as Failed; kubectl wait reads Failed.
    expect(trueConditions(status)).toEqual(['Stalled', 'Failed']);
    expect(status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      reason: expected.reason,
      message: expected.message,
    });
  });

  it('fails a download whose Job disappeared before it finished', () => {
    const d = download('clip', {}, { status: { phase: 'Running', jobName: 'clip' } });
    expect(
      desiredStatus({ download: d, job: undefined, pods: [], admitted: true, bucket, now }),
    ).toMatchObject({
      phase: 'Failed',
      reason: 'JobDeleted',
    });
  });

  it("keeps a finished download's record once its Job is gone", () => {
    const recorded = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }], { succeeded: 1 }),
      pods: [succeededPod],
      admitted: false,
      bucket,
      now,
    });
    const finished = download('clip', {}, { status: recorded });
    expect(
      desiredStatus({
        download: finished,
        job: undefined,
        pods: [],
        admitted: false,
        bucket,
        now: new Date(),
      }),
    ).toEqual(recorded);
  });

  it.each([
    [
      'a Succeeded with a result in its own prefix, written while the Job runs',
      { phase: 'Succeeded', jobName: 'clip', result },
      job([], { active: 1 }),
      [pod('Running')],
      { phase: 'Running', result: undefined, completionTime: undefined },
    ],
    [
      'a Failed written while the Job runs',
      { phase: 'Failed', jobName: 'clip', reason: 'Forged', message: 'm' },
      job([], { active: 1 }),
      [pod('Running')],
      { phase: 'Running', reason: undefined, message: undefined },
    ],
    [
      "someone else's file as the result of a running download",
      { phase: 'Running', jobName: 'clip', result: { ...result, key: 'team/victim/uid-v/secret.mp4' } },
      job([], { active: 1 }),
      [pod('Running')],
      { phase: 'Running', result: undefined },
    ],
    [
      'a result other than its termination message says, once the Job completed',
      { phase: 'Succeeded', jobName: 'clip', result: { ...result, sha256: 'b'.repeat(64), size: 1 } },
      job([{ type: 'Complete' }], { succeeded: 1 }),
      [succeededPod],
      { phase: 'Succeeded', result },
    ],
    [
      'a Succeeded for a download that never had a Job',
      { phase: 'Succeeded', result },
      undefined,
      [],
      { phase: 'Queued', result: undefined },
    ],
    [
      "a record naming another download's key, after the Job is gone",
      { phase: 'Succeeded', jobName: 'clip', result: { ...result, key: 'team/victim/uid-v/secret.mp4' } },
      undefined,
      [],
      { phase: 'Failed', reason: 'InvalidResult', result: undefined },
    ],
    [
      'a record naming another bucket, after the Job is gone',
      { phase: 'Succeeded', jobName: 'clip', result: { ...result, bucket: 'private' } },
      undefined,
      [],
      { phase: 'Failed', reason: 'InvalidResult', result: undefined },
    ],
  ] as const)(
    'does not keep a result it did not derive itself: %s',
    (_name, written, theJob, pods, expected) => {
      const status = desiredStatus({
        download: download('clip', {}, { status: written as VideoDownloadStatus }),
        job: theJob,
        pods: [...pods],
        admitted: false,
        bucket,
        now,
      });
      expect(status).toMatchObject(expected);
      for (const [key, value] of Object.entries(expected)) {
        if (value === undefined) expect(status[key as keyof VideoDownloadStatus]).toBeUndefined();
      }
    },
  );

  // Found by the fault suite: a DONE download turned FAILED ResultMissing once its pods
  // were gone while its Job still stood (foreground deletion removes the pods first).
  it.each<[string, V1Job, V1Pod[]]>([
    ['its Job completed and its pods are gone', job([{ type: 'Complete' }], { succeeded: 1 }), []],
    [
      'its Job completed after a retry and only the failed pod is left',
      job([{ type: 'Complete' }], { succeeded: 1, failed: 1 }),
      [pod('Failed', { exitCode: 1 })],
    ],
    [
      'its Job is being deleted',
      {
        ...job([{ type: 'Complete' }], { succeeded: 1 }),
        metadata: { ...job().metadata, deletionTimestamp: now },
      },
      [],
    ],
  ])('keeps a finished download as it was recorded when %s', (_name, finishedJob, jobPods) => {
    const recorded = { phase: 'Succeeded', jobName: 'clip', result } as VideoDownloadStatus;
    const status = desiredStatus({
      download: download('clip', {}, { status: recorded }),
      job: finishedJob,
      pods: [...jobPods],
      admitted: false,
      bucket,
      now,
    });
    expect(status).toMatchObject({ phase: 'Succeeded', result });
  });

  it("reads only the pods of the download's current Job, not a stale one of an older Job of the same name", () => {
    const olderResult = { ...result, key: `${prefix}old.mp4`, sha256: 'c'.repeat(64) };
    const stale = pod(
      'Succeeded',
      { exitCode: 0, message: JSON.stringify({ result: olderResult }) },
      '2026-01-01T00:00:07Z',
      'job-uid-1',
    );
    expect(podsOfJob(job(), [stale, succeededPod])).toEqual([succeededPod]);
    const completed = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }], { succeeded: 1 }),
      pods: [stale, succeededPod],
      admitted: false,
      bucket,
      now,
    });
    expect(completed.result).toEqual(result);
    // A stale pod alone says nothing: neither a result nor that this download has started.
    expect(
      desiredStatus({
        download: download(),
        job: job([{ type: 'Complete' }], { succeeded: 1 }),
        pods: [stale],
        admitted: false,
        bucket,
        now,
      }),
    ).toMatchObject({ phase: 'Failed', reason: 'ResultMissing' });
    expect(
      desiredStatus({ download: download(), job: job(), pods: [stale], admitted: false, bucket, now }),
    ).toMatchObject({ phase: 'Running', attempts: 1, progress: { stage: 'starting' } });
  });

  it("writes failure messages printable, bounded and without the pod's paths", () => {
    const message = `bad\u0000\u001b[2J ${'x'.repeat(3000)}`;
    const failing = pod('Failed', {
      exitCode: 42,
      message: JSON.stringify({
        error: { reason: 'DownloadFailed', message: "File name too long: '/work/out/title.mp4.part'" },
      }),
    });
    const status = desiredStatus({
      download: download(),
      job: job([{ type: 'Failed', reason: 'PodFailurePolicy' }]),
      pods: [failing],
      admitted: false,
      bucket,
      now,
    });
    expect(status.message).toBe("File name too long: 'title.mp4.part'");
    const other = desiredStatus({
      download: download(),
      job: job([{ type: 'Failed', reason: 'Odd', message }]),
      pods: [],
      admitted: false,
      bucket,
      now,
    });
    expect(other.message?.length).toBeLessThanOrEqual(1024);
    expect(other.message).toMatch(/^bad \[2J x+…$/);
    expect(other.conditions?.every((c) => c.message === other.message)).toBe(true);
  });

  it('writes nothing when the pod starts or its first attempt ends: one status from the Job to its end', () => {
    const created = desiredStatus({
      download: download(),
      job: job(),
      pods: [],
      admitted: true,
      bucket,
      now,
    });
    expect(created).toMatchObject({
      phase: 'Running',
      jobName: 'clip',
      attempts: 1,
      startTime: '2026-01-01T00:00:05Z',
      progress: { stage: 'starting' },
    });
    expect(created.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Running',
    });
    const recorded = download('clip', {}, { status: created });
    for (const [theJob, pods] of [
      [job([], { active: 1 }), [pod('Pending')]],
      [job([], { active: 1, startTime: new Date('2026-01-01T00:00:09Z') }), [pod('Running')]],
      [job([], { active: 0 }), [pod('Succeeded', { exitCode: 0 })]],
    ] as const) {
      expect(laterPatch(created, theJob, pods)).toBeUndefined();
    }
    // A retry is a second attempt: that is told.
    const retry = desiredStatus({
      download: recorded,
      job: job([], { failed: 1, active: 1 }),
      pods: [pod('Failed', { exitCode: 1 }), pod('Pending', undefined, '2026-01-01T00:00:30Z')],
      admitted: false,
      bucket,
      now,
    });
    expect(statusPatch(created, retry)).toMatchObject({ attempts: 2 });
  });

  describe("the pod's own report of its stored file", () => {
    const planned = {
      ...result,
      key: `${prefix}file`,
      infoKey: `${prefix}info.json`,
    };
    const running = (progress: VideoDownloadStatus['progress']) =>
      download('clip', {}, { status: { phase: 'Running', jobName: 'clip', attempts: 1, progress } });

    it('is checked only with stage done, only the planned keys, and only once', () => {
      const done = running({ stage: 'done', percent: 100, result: planned });
      expect(reportToVerify(done, bucket)).toEqual(planned);
      expect(reportToVerify(running({ stage: 'uploading', result: planned }), bucket)).toBeUndefined();
      expect(reportToVerify(running({ stage: 'done' }), bucket)).toBeUndefined();
      // Inside the download's prefix is not enough: the keys the operator made uploads for.
      expect(
        reportToVerify(running({ stage: 'done', result: { ...planned, key: `${prefix}other.mp4` } }), bucket),
      ).toBeUndefined();
      expect(
        reportToVerify(
          running({ stage: 'done', result: { ...planned, infoKey: `${prefix}x.json` } }),
          bucket,
        ),
      ).toBeUndefined();
      expect(
        reportToVerify(running({ stage: 'done', result: { ...planned, bucket: 'other' } }), bucket),
      ).toBeUndefined();
      const withoutInfo = { ...planned, infoKey: undefined };
      expect(reportToVerify(running({ stage: 'done', result: withoutInfo }), bucket)).toEqual(withoutInfo);
      const finished = download('clip', {}, { status: { ...done.status, phase: 'Succeeded' } });
      expect(reportToVerify(finished, bucket)).toBeUndefined();
      const noJob = download('clip', {}, { status: { progress: { stage: 'done', result: planned } } });
      expect(reportToVerify(noJob, bucket)).toBeUndefined();
    });

    it('once verified, makes the download Succeeded while its Job still runs, and the Job’s end writes nothing', () => {
      const reporting = running({ stage: 'done', percent: 100, result: planned });
      const early = desiredStatus({
        download: reporting,
        job: job([], { active: 1 }),
        pods: [pod('Running')],
        admitted: false,
        bucket,
        reported: planned,
        now,
      });
      expect(early).toMatchObject({
        phase: 'Succeeded',
        result: planned,
        completionTime: '2026-01-01T00:02:00Z',
        progress: { stage: 'done', percent: 100 },
      });
      expect(trueConditions(early)).toEqual(['Ready', 'Complete']);
      // The pod exits and the Job completes (its termination message shortened, say), or
      // it fails after the file was stored: the recorded download stays as it is.
      const shortened = { ...planned, title: 'A cl…' };
      for (const [theJob, pods] of [
        [job([], { active: 1 }), [pod('Running')]],
        [
          job([{ type: 'Complete' }], { succeeded: 1 }),
          [pod('Succeeded', { exitCode: 0, message: JSON.stringify({ result: shortened }) })],
        ],
        [
          job([{ type: 'Failed', reason: 'DeadlineExceeded' }], { failed: 1 }),
          [pod('Failed', { exitCode: 1 })],
        ],
        [undefined, []],
      ] as const) {
        expect(laterPatch(early, theJob, pods)).toBeUndefined();
      }
    });

    it('finishes a download whose Job went by its TTL before the operator saw it end', () => {
      const reporting = running({ stage: 'done', percent: 100, result: planned });
      const base = { download: reporting, job: undefined, pods: [], admitted: false, bucket, now };
      expect(desiredStatus(base)).toMatchObject({ phase: 'Failed', reason: 'JobDeleted' });
      expect(desiredStatus({ ...base, reported: planned })).toMatchObject({
        phase: 'Succeeded',
        result: planned,
      });
    });

    it('does not let a Succeeded written by someone else stand on a result the pod never reported', () => {
      const forged = download(
        'clip',
        {},
        {
          status: {
            phase: 'Succeeded',
            jobName: 'clip',
            result: planned,
            progress: { stage: 'downloading' },
          },
        },
      );
      expect(
        desiredStatus({
          download: forged,
          job: job([], { active: 1 }),
          pods: [pod('Running')],
          admitted: false,
          bucket,
          now,
        }),
      ).toMatchObject({ phase: 'Running', result: undefined });
    });
  });

  it('is idempotent: the status it produces yields itself again', () => {
    for (const [theJob, pods] of [
      [job([{ type: 'Complete' }]), [succeededPod]],
      [job([{ type: 'Failed', reason: 'DeadlineExceeded' }]), []],
      [job([], { active: 1 }), [pod('Running')]],
      [undefined, []],
    ] as const) {
      const first = desiredStatus({
        download: download(),
        job: theJob,
        pods: [...pods],
        admitted: false,
        bucket,
        now,
      });
      const again = desiredStatus({
        download: download('clip', {}, { status: first }),
        job: theJob,
        pods: [...pods],
        admitted: false,
        bucket,
        now: new Date('2026-01-01T05:00:00Z'),
      });
      expect(again).toEqual(first);
    }
  });
});

describe('conditionsFor', () => {
  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const queued = conditionsFor({ phase: 'Queued' }, 1, now);
    const later = new Date('2026-02-01T00:00:00Z');
    const running = conditionsFor({ phase: 'Running', conditions: queued }, 1, later);
    const time = (type: string) => running.find((c) => c.type === type)?.lastTransitionTime;
    expect(time('Reconciling')).toBe('2026-01-01T00:02:00Z');
    const done = conditionsFor({ phase: 'Succeeded', conditions: running }, 1, later);
    expect(done.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-02-01T00:00:00Z',
    });
  });

  it('drops conditions vdl does not set, so none written by someone else stands', () => {
    const forged = [
      {
        type: 'Hacked',
        status: 'True' as const,
        reason: 'X',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ];
    expect(conditionsFor({ phase: 'Running', conditions: forged }, 1, now).map((c) => c.type)).toEqual([
      'Ready',
      'Reconciling',
      'Stalled',
      'Complete',
      'Failed',
    ]);
  });
});

describe('statusPatch', () => {
  it('is empty when nothing changed', () => {
    expect(statusPatch({ phase: 'Running', attempts: 1 }, { phase: 'Running', attempts: 1 })).toBeUndefined();
  });
  it('leaves progress to the download pod while the phase stays', () => {
    expect(
      statusPatch(
        { phase: 'Running', progress: { percent: 50 } },
        { phase: 'Running', progress: { percent: 10 }, attempts: 2 },
      ),
    ).toEqual({ attempts: 2 });
  });
  it('sets progress on a change of phase and deletes fields with null', () => {
    expect(
      statusPatch(
        { phase: 'Running', reason: 'x', progress: { percent: 50 } },
        { phase: 'Succeeded', progress: { percent: 100 } },
      ),
    ).toEqual({ phase: 'Succeeded', progress: { percent: 100 }, reason: null });
  });
});

describe('transitionEvent', () => {
  it('tells a failure once, and no routine step (those are in the conditions)', () => {
    expect(transitionEvent({ phase: 'Running' }, { phase: 'Running' })).toBeUndefined();
    expect(transitionEvent(undefined, { phase: 'Queued' })).toBeUndefined();
    expect(transitionEvent({ phase: 'Queued' }, { phase: 'Running', jobName: 'clip' })).toBeUndefined();
    expect(transitionEvent({ phase: 'Running' }, { phase: 'Succeeded', result })).toBeUndefined();
    expect(transitionEvent({ phase: 'Failed' }, { phase: 'Failed', reason: 'X' })).toBeUndefined();
    expect(
      transitionEvent({ phase: 'Running' }, { phase: 'Failed', reason: 'FileTooLarge', message: 'm' }),
    ).toEqual({
      type: 'Warning',
      reason: 'FileTooLarge',
      message: 'm',
    });
  });
});
