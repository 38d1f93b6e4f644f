import { describe, expect, it } from 'vitest';
import { activeReservations, quotaObjectName, type Standing } from './quota.ts';

describe('activeReservations', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const grace = 120_000;
  const cases: Array<[string, Standing, string, boolean]> = [
    ['an unfinished download holds its slot however old', 'unfinished', '2025-01-01T00:00:00Z', true],
    ['a finished download lets go at once', 'finished', '2026-01-01T00:09:59Z', false],
    ['a name not in the cache yet holds its slot within the grace', 'unknown', '2026-01-01T00:08:01Z', true],
    ['a name gone for longer than the grace lets go', 'unknown', '2026-01-01T00:08:00Z', false],
    [
      'a reservation from the future (another clock) is not trusted',
      'unknown',
      '2026-01-01T00:11:00Z',
      false,
    ],
    ['an unreadable time on an unknown name lets go', 'unknown', 'yesterday', false],
  ];
  it.each(cases)('%s', (_name, standing, reservedAt, kept) => {
    const active = activeReservations({ 'dl-x': reservedAt }, () => standing, now, grace);
    expect('dl-x' in active).toBe(kept);
  });
});

describe('quotaObjectName', () => {
  it('is a valid ConfigMap name for any user, and differs between users', () => {
    for (const user of ['alice', 'a.b_c', 'UPPER', 'x'.repeat(300)])
      expect(quotaObjectName(user)).toMatch(/^vdl-quota-[0-9a-f]{24}$/);
    expect(quotaObjectName('alice')).not.toBe(quotaObjectName('bob'));
  });
});
