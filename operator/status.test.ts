import { describe, expect, it } from 'vitest';
import { statusPatch } from './reconciler.ts';
import { desiredStatus, transitionEvent, withCondition } from './status.ts';
import { download, job, pod } from './test-fixtures.ts';

const now = new Date('2026-01-01T00:02:00Z');
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

describe('desiredStatus', () => {
  it.each([
    ['no Job, over the limit', undefined, [], false, 'Queued'],
    ['no Job, admitted', undefined, [], true, 'Pending'],
    ['Job without running pod', job(), [pod('Pending')], false, 'Pending'],
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
    const status = desiredStatus({ download: download(), job: theJob, pods: [...pods], admitted, now });
    expect(status.phase).toBe(phase);
    expect(status.observedGeneration).toBe(1);
    expect(status.conditions).toBeUndefined();
  });

  it('records the result and a Complete condition when the Job completes', () => {
    const status = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }], { succeeded: 1 }),
      pods: [succeededPod],
      admitted: false,
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
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'Complete',
        status: 'True',
        reason: 'Downloaded',
        lastTransitionTime: '2026-01-01T00:02:00Z',
      }),
    ]);
  });

  it("refuses a result that points outside the download's own prefix", () => {
    for (const key of ['team/other/uid-other/x.mp4', `${prefix}../../other/x.mp4`]) {
      const bad = pod('Succeeded', { exitCode: 0, message: JSON.stringify({ result: { ...result, key } }) });
      const status = desiredStatus({
        download: download(),
        job: job([{ type: 'Complete' }]),
        pods: [bad],
        admitted: false,
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
      now,
    });
    expect(status).toMatchObject({ phase: 'Failed', reason: 'ResultMissing' });
    expect(status.conditions?.[0]).toMatchObject({ type: 'Failed', status: 'True', reason: 'ResultMissing' });
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
      [pod('Failed', { exitCode: 137, reason: 'OOMKilled' })],
      {
        reason: 'RetriesExhausted',
        message: 'the download failed on every attempt (last attempt: exit code 137, OOMKilled)',
      },
    ],
  ])('a failed Job reports %s', (_name, condition, pods, expected) => {
    const status = desiredStatus({ download: download(), job: job([condition]), pods, admitted: false, now });
    expect(status).toMatchObject({ phase: 'Failed', ...expected, completionTime: '2026-01-01T00:02:00Z' });
    expect(status.conditions).toEqual([
      expect.objectContaining({ type: 'Failed', status: 'True', reason: expected.reason }),
    ]);
  });

  it('fails a download whose Job disappeared before it finished', () => {
    const d = download('clip', {}, { status: { phase: 'Running', jobName: 'clip' } });
    expect(desiredStatus({ download: d, job: undefined, pods: [], admitted: true, now })).toMatchObject({
      phase: 'Failed',
      reason: 'JobDeleted',
    });
  });

  it("never changes a finished download's record", () => {
    const finished = download('clip', {}, { status: { phase: 'Succeeded', result } });
    expect(
      desiredStatus({ download: finished, job: job([{ type: 'Failed' }]), pods: [], admitted: false, now }),
    ).toBe(finished.status);
  });

  it('is idempotent: the status it produces yields itself again', () => {
    const first = desiredStatus({
      download: download(),
      job: job([{ type: 'Complete' }]),
      pods: [succeededPod],
      admitted: false,
      now,
    });
    const again = desiredStatus({
      download: download('clip', {}, { status: first }),
      job: job([{ type: 'Complete' }]),
      pods: [succeededPod],
      admitted: false,
      now: new Date('2026-01-01T05:00:00Z'),
    });
    expect(again).toEqual(first);
  });
});

describe('withCondition', () => {
  it('keeps lastTransitionTime while the status stays the same', () => {
    const first = withCondition(
      undefined,
      { type: 'Complete', status: 'True', reason: 'A', message: 'm' },
      now,
    );
    const later = withCondition(
      first,
      { type: 'Complete', status: 'True', reason: 'B', message: 'n' },
      new Date('2026-02-01T00:00:00Z'),
    );
    expect(later).toEqual([
      {
        type: 'Complete',
        status: 'True',
        reason: 'B',
        message: 'n',
        lastTransitionTime: '2026-01-01T00:02:00Z',
      },
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
  it('tells each change of phase once', () => {
    expect(transitionEvent({ phase: 'Running' }, { phase: 'Running' })).toBeUndefined();
    expect(transitionEvent(undefined, { phase: 'Queued' })).toMatchObject({
      type: 'Normal',
      reason: 'Queued',
    });
    expect(
      transitionEvent({ phase: 'Running' }, { phase: 'Failed', reason: 'FileTooLarge', message: 'm' }),
    ).toEqual({
      type: 'Warning',
      reason: 'FileTooLarge',
      message: 'm',
    });
  });
});
