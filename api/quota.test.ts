import { describe, expect, it } from 'vitest';
import { activeReservations, decideChanges, quotaObjectName, type Standing } from './quota.ts';

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

describe('decideChanges', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const at = new Date(now).toISOString();
  const base = {
    standing: () => 'unfinished' as const,
    unfinished: [],
    limit: 3,
    nowMs: now,
    graceMs: 120_000,
  };
  const cases: Array<{
    name: string;
    reservations: Record<string, string>;
    changes: Array<{ kind: 'reserve' | 'release'; name: string }>;
    unfinished?: string[];
    decisions: unknown[];
    next: Record<string, string> | undefined;
  }> = [
    {
      name: 'a batch fills the free slots in order and refuses the rest',
      reservations: { a: at },
      changes: ['b', 'c', 'd'].map((name) => ({ kind: 'reserve' as const, name })),
      decisions: [{ allowed: true }, { allowed: true }, { allowed: false, active: 3 }],
      next: { a: at, b: at, c: at },
    },
    {
      name: 'a name that holds a slot already is allowed again without a write',
      reservations: { a: at },
      changes: [{ kind: 'reserve', name: 'a' }],
      decisions: [{ allowed: true }],
      next: undefined,
    },
    {
      name: 'downloads made with kubectl count, once, beside the reservations',
      reservations: { a: at },
      changes: [{ kind: 'reserve', name: 'b' }],
      unfinished: ['a', 'k1', 'k2'],
      decisions: [{ allowed: false, active: 3 }],
      next: undefined,
    },
    {
      name: 'a release frees the slot for the reservation after it',
      reservations: { a: at, b: at, c: at },
      changes: [
        { kind: 'release', name: 'b' },
        { kind: 'reserve', name: 'd' },
      ],
      decisions: [{ allowed: true }, { allowed: true }],
      next: { a: at, c: at, d: at },
    },
    {
      name: 'releasing a name without a slot writes nothing',
      reservations: { a: at },
      changes: [{ kind: 'release', name: 'x' }],
      decisions: [{ allowed: true }],
      next: undefined,
    },
  ];
  it.each(cases)('$name', ({ reservations, changes, unfinished, decisions, next }) => {
    expect(decideChanges({ ...base, reservations, changes, unfinished: unfinished ?? [] })).toEqual({
      decisions,
      next,
    });
  });
});
