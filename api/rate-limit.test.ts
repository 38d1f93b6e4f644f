import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst per user, then refuses with the seconds until the next token', () => {
    let now = 0;
    const limiter = new RateLimiter(6, 2, () => now);
    expect(limiter.take('a')).toEqual({ allowed: true, limit: 2, remaining: 1, resetSeconds: 0 });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, limit: 2, remaining: 0, resetSeconds: 10 });
    expect(limiter.take('b').allowed).toBe(true);
    now = 10_000;
    expect(limiter.take('a').allowed).toBe(true);
  });
});
