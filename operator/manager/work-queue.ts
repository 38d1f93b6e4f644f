// A work queue with client-go's guarantees: a key is queued once however many
// events arrive, one key is never processed by two workers at once, and a
// failing key is retried with per-key exponential backoff under an overall
// token bucket. Timers (TTL, queue re-checks) are delayed adds, never sleeps,
// on an injected Clock.
import { TokenBucket } from '../../lib/runtime/token-bucket.ts';
import { type Clock, systemClock, type Timer } from './clock.ts';

export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Overall retries per second and burst. */
  qps: number;
  burst: number;
}

// client-go's DefaultControllerRateLimiter.
export const defaultRateLimiter: RateLimiterOptions = {
  baseDelayMs: 5,
  maxDelayMs: 1_000_000,
  qps: 10,
  burst: 100,
};

/** Node fires a setTimeout of more than 2^31-1 ms after 1 ms instead: no timer may be longer. */
export const maxTimerDelayMs = 2 ** 31 - 1;

/**
 * The delay a timer can really wait: at most maxTimerDelayMs (whoever wanted
 * longer is woken early and asks again), never negative or NaN.
 */
export function timerDelayMs(delayMs: number): number {
  if (Number.isNaN(delayMs) || delayMs <= 0) return 0;
  return Math.min(delayMs, maxTimerDelayMs);
}

/** Per-key exponential backoff; pure apart from the failure counts it keeps. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  private readonly options: Pick<RateLimiterOptions, 'baseDelayMs' | 'maxDelayMs'>;
  constructor(options: Pick<RateLimiterOptions, 'baseDelayMs' | 'maxDelayMs'>) {
    this.options = options;
  }

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return Math.min(this.options.baseDelayMs * 2 ** failures, this.options.maxDelayMs);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: Timer }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly backoff: ExponentialBackoff;
  private readonly bucket: TokenBucket;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(options: RateLimiterOptions = defaultRateLimiter, clock: Clock = systemClock) {
    this.backoff = new ExponentialBackoff(options);
    this.clock = clock;
    this.bucket = new TokenBucket(options.qps, options.burst, () => clock.now());
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /**
   * Adds the key after delayMs, or after maxTimerDelayMs when that is sooner
   * (its reconcile then asks for the rest); an earlier pending add for the same key wins.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    const delay = timerDelayMs(delayMs);
    if (delay === 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delay;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delay);
    this.timers.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, Math.max(this.backoff.when(key), this.bucket.reserve()));
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }

  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /** The next key to process, or undefined once shut down. Call done(key) after. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.queue.length;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
