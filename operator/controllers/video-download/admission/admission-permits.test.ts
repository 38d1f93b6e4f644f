import { describe, expect, it } from 'vitest';
import { AdmissionPermits } from './admission-permits.ts';

describe('AdmissionPermits', () => {
  it('lets each admitted key start once', () => {
    const permits = new AdmissionPermits();
    permits.grant(['ns/a', 'ns/b']);
    expect(permits.take('ns/a')).toBe(true);
    expect(permits.take('ns/a')).toBe(false);
    expect(permits.take('ns/c')).toBe(false);
    expect(permits.take('ns/b')).toBe(true);
  });

  it('forgets the permits of an older decision when a fresh one is granted', () => {
    const permits = new AdmissionPermits();
    permits.grant(['ns/a', 'ns/b']);
    permits.grant(['ns/c']);
    expect(permits.take('ns/a')).toBe(false);
    expect(permits.take('ns/c')).toBe(true);
  });
});
