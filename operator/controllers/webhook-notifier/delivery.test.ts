import { describe, expect, it } from 'vitest';
import type { NotificationStatus, VideoDownload } from '../../../crds/video-download.ts';
import { download } from '../video-download/test-fixtures.ts';
import { afterAttempt, backoffAfter, nextStep, notificationEvent } from './delivery.ts';

const settings = { maxAttempts: 4, backoffMs: 10_000, backoffMaxMs: 30_000 };
const now = Date.parse('2026-01-01T00:10:00Z');
const notify = { url: 'https://hooks.example.com/vdl', secretRef: { name: 'vdl-webhook-team' } };

function withPhase(phase: string | undefined, withNotify = true, extra: Partial<VideoDownload> = {}) {
  return download('clip', withNotify ? { notify } : {}, {
    status: phase ? { phase: phase as 'Running' } : undefined,
    ...extra,
  });
}

describe('next step', () => {
  const retrying = (at: string): NotificationStatus => ({
    state: 'Retrying',
    attempts: 1,
    nextAttemptAt: at,
  });
  it.each<[string, VideoDownload, NotificationStatus | undefined, ReturnType<typeof nextStep>]>([
    ['no webhook', withPhase('Succeeded', false), undefined, { action: 'none' }],
    ['still running', withPhase('Running'), undefined, { action: 'none' }],
    ['not started', withPhase(undefined), undefined, { action: 'none' }],
    ['succeeded, never sent', withPhase('Succeeded'), undefined, { action: 'send' }],
    ['failed, never sent', withPhase('Failed'), undefined, { action: 'send' }],
    ['delivered', withPhase('Succeeded'), { state: 'Delivered', attempts: 1 }, { action: 'none' }],
    ['given up', withPhase('Failed'), { state: 'Failed', attempts: 4 }, { action: 'none' }],
    [
      'a retry not yet due',
      withPhase('Succeeded'),
      retrying('2026-01-01T00:10:07Z'),
      { action: 'wait', afterMs: 7000 },
    ],
    ['a retry due now', withPhase('Succeeded'), retrying('2026-01-01T00:10:00Z'), { action: 'send' }],
    [
      'a retry overdue (the operator was down)',
      withPhase('Succeeded'),
      retrying('2026-01-01T00:00:00Z'),
      { action: 'send' },
    ],
    [
      'being deleted (a TTL of 0): still told',
      withPhase('Succeeded', true, { metadata: { name: 'clip', deletionTimestamp: '2026-01-01T00:09:00Z' } }),
      undefined,
      { action: 'send' },
    ],
  ])('%s', (_case, vd, record, expected) => {
    expect(nextStep(vd, record, now)).toEqual(expected);
  });
});

describe('backoff', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 30_000],
    [4, 30_000],
    [2000, 30_000],
  ])('after %i failed attempts waits %i ms, doubling up to the cap', (attempts, ms) => {
    expect(backoffAfter(attempts, settings)).toBe(ms);
  });
});

describe('after an attempt', () => {
  it.each<[string, NotificationStatus | undefined, Parameters<typeof afterAttempt>[1], NotificationStatus]>([
    [
      'delivered at once',
      undefined,
      { delivered: true },
      { state: 'Delivered', attempts: 1, deliveredAt: '2026-01-01T00:10:00Z' },
    ],
    [
      'delivered on a retry: the error and the due time go',
      { state: 'Retrying', attempts: 2, lastError: 'x answered 503', nextAttemptAt: '2026-01-01T00:09:50Z' },
      { delivered: true },
      { state: 'Delivered', attempts: 3, deliveredAt: '2026-01-01T00:10:00Z' },
    ],
    [
      'a first failure: retry after the base backoff',
      undefined,
      { delivered: false, error: 'hooks.example.com answered 503' },
      {
        state: 'Retrying',
        attempts: 1,
        lastError: 'hooks.example.com answered 503',
        nextAttemptAt: '2026-01-01T00:10:10Z',
      },
    ],
    [
      'a second failure: twice as long',
      { state: 'Retrying', attempts: 1 },
      { delivered: false, error: 'ECONNREFUSED' },
      { state: 'Retrying', attempts: 2, lastError: 'ECONNREFUSED', nextAttemptAt: '2026-01-01T00:10:20Z' },
    ],
    [
      'the last allowed attempt fails: given up',
      { state: 'Retrying', attempts: 3 },
      { delivered: false, error: 'ECONNREFUSED' },
      { state: 'Failed', attempts: 4, lastError: 'ECONNREFUSED' },
    ],
    [
      'a refused address: given up at once',
      undefined,
      { delivered: false, error: '127.0.0.1:80 refused: 127.0.0.1 is a loopback address', permanent: true },
      { state: 'Failed', attempts: 1, lastError: '127.0.0.1:80 refused: 127.0.0.1 is a loopback address' },
    ],
  ])('%s', (_case, previous, outcome, expected) => {
    expect(afterAttempt(previous, outcome, now, settings)).toEqual(expected);
  });

  it('rounds the next attempt up to a whole second, never before the backoff is over', () => {
    const next = afterAttempt(undefined, { delivered: false, error: 'x' }, now + 1, settings);
    expect(next.nextAttemptAt).toBe('2026-01-01T00:10:11Z');
  });

  it('keeps an error printable and short', () => {
    const next = afterAttempt(
      undefined,
      { delivered: false, error: `bad\u0000${'x'.repeat(5000)}` },
      now,
      settings,
    );
    expect(next.lastError).not.toContain('\u0000');
    expect(next.lastError?.length).toBeLessThanOrEqual(1024);
  });
});

describe('events', () => {
  it.each<[string, NotificationStatus, string | undefined]>([
    ['delivered', { state: 'Delivered', attempts: 2 }, 'Normal NotificationDelivered'],
    ['given up', { state: 'Failed', attempts: 4, lastError: 'e' }, 'Warning NotificationFailed'],
    ['the first failure', { state: 'Retrying', attempts: 1, lastError: 'e' }, 'Warning NotificationRetrying'],
    ['a later failure: status only', { state: 'Retrying', attempts: 2, lastError: 'e' }, undefined],
  ])('%s', (_case, record, expected) => {
    const event = notificationEvent(record, notify.url);
    expect(event && `${event.type} ${event.reason}`).toBe(expected);
  });
});
