import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExponentialBackoff, maxTimerDelayMs, type Timers, timerDelayMs, WorkQueue } from './work-queue.ts';

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

  // Timers on a fake clock: what is checked is which key is queued at which
  // instant of that clock, so a loaded machine cannot make these fail.
  describe('on a fake clock', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('adds after a delay, not before, keeping the earliest pending time', async () => {
      const queue = new WorkQueue();
      queue.addAfter('k', 30);
      queue.addAfter('k', 10_000);
      queue.addAfter('j', 10_000);
      queue.addAfter('j', 50);
      vi.advanceTimersByTime(29);
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('k');
      queue.done('k');
      vi.advanceTimersByTime(20);
      expect(await queue.get()).toBe('j');
      queue.done('j');
      // The later adds were dropped, not kept for later.
      vi.advanceTimersByTime(20_000);
      expect(queue.length).toBe(0);
    });

    it('retries a failing key after its backoff (5, 10, 20 ms), not before', async () => {
      const queue = new WorkQueue();
      const readyAfter: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        queue.addRateLimited('k');
        let waited = 0;
        while (queue.length === 0) {
          vi.advanceTimersByTime(1);
          waited += 1;
        }
        readyAfter.push(waited);
        queue.done((await queue.get()) as string);
      }
      expect(readyAfter).toEqual([5, 10, 20]);
      expect(queue.retries('k')).toBe(3);
      queue.forget('k');
      queue.addRateLimited('k');
      vi.advanceTimersByTime(5);
      expect(queue.length).toBe(1);
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
    const asked: number[] = [];
    const timers: Timers = {
      setTimeout: (callback, delayMs) => {
        asked.push(delayMs);
        return setTimeout(callback, 60_000).unref();
      },
      clearTimeout: (timer) => clearTimeout(timer),
    };
    const queue = new WorkQueue(undefined, timers);
    queue.addAfter('ttl', 3_000_000 * 1000);
    queue.addAfter('backoff', Number.POSITIVE_INFINITY);
    expect(asked).toEqual([maxTimerDelayMs, maxTimerDelayMs]);
    expect(queue.length).toBe(0);
    queue.shutdown();
  });
});
