import { type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { canAcquire, type Observation, observe, renewTimeLeft } from './leader-election.ts';

// The remote clock (renewTime, written by the holder) and the candidate's own
// clock (milliseconds, fake) are separate on purpose: only the latter may decide.
const remote = (iso: string) => new V1MicroTime(iso);
const held = (holder: string | undefined, renewTime: string, transitions = 0): V1LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  renewTime: remote(renewTime),
  leaseTransitions: transitions,
});

/** A candidate reading the lease at each local time in turn; its decision after the last read. */
function decide(reads: Array<[localMs: number, spec: V1LeaseSpec | undefined]>): boolean {
  let observed: Observation | undefined;
  for (const [now, spec] of reads) observed = observe(observed, spec, now);
  const [now, spec] = reads.at(-1) as [number, V1LeaseSpec | undefined];
  return canAcquire(spec, 'me', observed as Observation, now);
}

describe('canAcquire with the observed-time rule', () => {
  const t = '2026-01-01T00:00:00Z';
  it.each<[string, Array<[number, V1LeaseSpec | undefined]>, boolean]>([
    ['no lease yet: takes it', [[0, undefined]], true],
    ['a released lease: takes it', [[0, held(undefined, t)]], true],
    ['our own lease, however old: renews it', [[0, held('me', '2000-01-01T00:00:00Z')]], true],
    // The old rule (renewTime + 15 s < local now) took these over at once.
    [
      'a holder whose clock is an hour behind, first seen now: waits',
      [[0, held('other', '2025-12-31T23:00:00Z')]],
      false,
    ],
    [
      'a holder an hour behind, renewing: waits',
      [
        [0, held('other', '2025-12-31T23:00:00Z')],
        [10_000, held('other', '2025-12-31T23:00:10Z')],
        [20_000, held('other', '2025-12-31T23:00:20Z')],
      ],
      false,
    ],
    // ...and never took this one over, although its holder is gone.
    [
      'a holder an hour ahead that stopped renewing 15 s ago (local): takes it',
      [
        [0, held('other', '2026-01-01T01:00:00Z')],
        [15_000, held('other', '2026-01-01T01:00:00Z')],
      ],
      true,
    ],
    [
      'an unchanged record first seen 14.999 s ago: waits',
      [
        [1, held('other', t)],
        [15_000, held('other', t)],
      ],
      false,
    ],
    [
      'a renew restarts the wait: waits',
      [
        [0, held('other', t)],
        [14_000, held('other', '2026-01-01T00:00:14Z')],
        [20_000, held('other', '2026-01-01T00:00:14Z')],
      ],
      false,
    ],
    [
      'a hand-over restarts the wait (same renewTime, new holder): waits',
      [
        [0, held('other', t)],
        [10_000, held('third', t, 1)],
        [20_000, held('third', t, 1)],
      ],
      false,
    ],
    [
      'an unchanged record watched for a whole lease: takes it',
      [
        [0, held('other', t)],
        [8_000, held('other', t)],
        [15_000, held('other', t)],
      ],
      true,
    ],
  ])('%s', (_name, reads, expected) => {
    expect(decide(reads)).toBe(expected);
  });
});

describe('renewTimeLeft: a leader steps down at the renew deadline', () => {
  it.each([
    ['just renewed', 0, 0, 10_000],
    ['one millisecond before the deadline', 0, 9_999, 1],
    ['at the deadline: step down', 0, 10_000, 0],
    // A renew sent at 2 s that never answers gets 8 s: it is aborted at the
    // deadline, when the leader's own timer steps it down.
    ['a renew sent 2 s after the last success', 0, 2_000, 8_000],
    ['long after a hung renew', 0, 60_000, -50_000],
  ])('%s', (_name, lastRenewSentAt, now, left) => {
    expect(renewTimeLeft(lastRenewSentAt, now, 10_000)).toBe(left);
  });
});
