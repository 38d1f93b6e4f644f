import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { canAcquire } from './leader-election.ts';

const now = new Date('2026-01-01T00:00:30Z');
const lease = (holder: string | undefined, renewedAt: string) => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new V1MicroTime(renewedAt) },
});

describe('canAcquire', () => {
  it.each([
    ['no lease yet', undefined, true],
    ['a released lease', lease(undefined, '2026-01-01T00:00:29Z'), true],
    ['our own lease', lease('me', '2026-01-01T00:00:29Z'), true],
    ['another holder, renewed 1 s ago', lease('other', '2026-01-01T00:00:29Z'), false],
    ['another holder, expired 1 s ago', lease('other', '2026-01-01T00:00:14Z'), true],
  ])('%s → %s', (_name, current, expected) => {
    expect(canAcquire(current, 'me', now)).toBe(expected);
  });
});
