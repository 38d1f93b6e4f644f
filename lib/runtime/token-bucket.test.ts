import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('reserve: allows a burst, then spaces requests at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBeCloseTo(100);
    expect(bucket.reserve()).toBeCloseTo(200);
    now = 1_000;
    expect(bucket.reserve()).toBe(0);
  });

  it('tryTake: takes only whole tokens and says when the next one is there', () => {
    let now = 0;
    const bucket = new TokenBucket(0.1, 2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    expect(bucket.available()).toBe(0);
    expect(bucket.secondsUntilToken()).toBe(10);
    now = 5_000;
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.secondsUntilToken()).toBe(5);
    now = 10_000;
    expect(bucket.tryTake()).toBe(true);
  });

  it('never holds more than the burst, however long it waits', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 2, () => now);
    now = 3_600_000;
    expect(bucket.available()).toBe(2);
  });
});
