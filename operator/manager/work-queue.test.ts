import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.ts';
import {
  defaultRateLimiter,
  ExponentialBackoff,
  maxTimerDelayMs,
  timerDelayMs,
  WorkQueue,
} from './work-queue.ts';

describe('WorkQueue', () => {
  it('queues a key once however many times it is added', async () => {
    const queue = new WorkQueue();
    for (let i = 0; i < 5; i++) queue.add('a');
    queue.add('b');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('never hands a key to two workers at once; an add while processing comes back after done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const key = await queue.get();
    queue.add('a');
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(key as string);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('wakes a waiting worker on add, and every worker on shutdown', async () => {
    const queue = new WorkQueue();
    const waiting = [queue.get(), queue.get()];
    queue.add('x');
    expect(await waiting[0]).toBe('x');
    queue.shutdown();
    expect(await waiting[1]).toBeUndefined();
  });

  // Timers on the injected fake clock: what is checked is which key is queued
  // at which instant of that clock, so a loaded machine cannot make these fail.
  describe('on a fake clock', () => {
    it('adds after a delay, not before, keeping the earliest pending time', async () => {
      const clock = new FakeClock();
      const queue = new WorkQueue(defaultRateLimiter, clock);
      queue.addAfter('k', 30);
      queue.addAfter('k', 10_000);
      queue.addAfter('j', 10_000);
      queue.addAfter('j', 50);
      clock.advance(29);
      expect(queue.length).toBe(0);
      clock.advance(1);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('k');
      queue.done('k');
      clock.advance(20);
      expect(await queue.get()).toBe('j');
      queue.done('j');
      // The later adds were dropped, not kept for later.
      clock.advance(20_000);
      expect(queue.length).toBe(0);
    });

    it('retries a failing key after its backoff (5, 10, 20 ms), not before', async () => {
      const clock = new FakeClock();
      const queue = new WorkQueue(defaultRateLimiter, clock);
      const readyAfter: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        queue.addRateLimited('k');
        let waited = 0;
        // Bounded: a queue that ignored the clock fails here instead of hanging.
        while (queue.length === 0 && waited < 1_000) {
          clock.advance(1);
          waited += 1;
        }
        readyAfter.push(waited);
        queue.done((await queue.get()) as string);
      }
      expect(readyAfter).toEqual([5, 10, 20]);
      expect(queue.retries('k')).toBe(3);
      queue.forget('k');
      queue.addRateLimited('k');
      clock.advance(5);
      expect(queue.length).toBe(1);
    });

    it('spaces retries of many keys by the overall token bucket once its burst is spent', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1_000, qps: 10, burst: 2 }, clock);
      for (const key of ['a', 'b', 'c', 'd']) queue.addRateLimited(key);
      // a and b within the burst wait their 5 ms backoff; c and d wait for tokens, 100 ms apart.
      expect(clock.delays).toEqual([5, 5, 100, 200]);
      clock.advance(100);
      expect(queue.length).toBe(3);
      clock.advance(100);
      expect(queue.length).toBe(4);
    });

    it('stops its timers on shutdown', () => {
      const clock = new FakeClock();
      const queue = new WorkQueue(defaultRateLimiter, clock);
      queue.addAfter('k', 1_000);
      queue.shutdown();
      expect(clock.timers).toBe(0);
      clock.advance(1_000);
      expect(queue.length).toBe(0);
    });
  });
});

describe('ExponentialBackoff', () => {
  it('doubles per failure from 5 ms to a cap, per key, and forgets', () => {
    const backoff = new ExponentialBackoff({ baseDelayMs: 5, maxDelayMs: 1_000_000 });
    expect([1, 2, 3, 4].map(() => backoff.when('a'))).toEqual([5, 10, 20, 40]);
    expect(backoff.when('b')).toBe(5);
    for (let i = 0; i < 40; i++) backoff.when('a');
    expect(backoff.when('a')).toBe(1_000_000);
    backoff.forget('a');
    expect(backoff.when('a')).toBe(5);
  });
});

describe('requeue delays', () => {
  it.each([
    [30, 30],
    [0, 0],
    [-5, 0],
    [Number.NaN, 0],
    [2 ** 31 - 1, 2 ** 31 - 1],
    [2 ** 31, 2 ** 31 - 1],
    [3_000_000 * 1000, 2 ** 31 - 1],
    [Number.POSITIVE_INFINITY, 2 ** 31 - 1],
  ])('a wanted delay of %d ms waits %d ms', (wanted, waited) => {
    expect(timerDelayMs(wanted)).toBe(waited);
  });

  it('never hands Node a timer it would fire after 1 ms (a TTL of 3,000,000 s)', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue(undefined, clock);
    queue.addAfter('ttl', 3_000_000 * 1000);
    queue.addAfter('backoff', Number.POSITIVE_INFINITY);
    expect(clock.delays).toEqual([maxTimerDelayMs, maxTimerDelayMs]);
    expect(queue.length).toBe(0);
    queue.shutdown();
  });
});
