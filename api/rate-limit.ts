// Per-user token buckets for submissions, answering with what the RateLimit
// headers need. In memory per replica: with N replicas a user gets at most
// N times the rate, which bounds abuse without shared state.
import { TokenBucket } from '../lib/runtime/token-bucket.ts';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a token is available again. */
  resetSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly newBucket: () => TokenBucket;
  private readonly burst: number;

  constructor(perMinute: number, burst: number, now: () => number = Date.now) {
    this.newBucket = () => new TokenBucket(perMinute / 60, burst, now);
    this.burst = burst;
  }

  take(user: string): RateDecision {
    const bucket = this.buckets.get(user) ?? this.newBucket();
    this.buckets.set(user, bucket);
    const allowed = bucket.tryTake();
    return {
      allowed,
      limit: this.burst,
      remaining: Math.floor(bucket.available()),
      resetSeconds: bucket.secondsUntilToken(),
    };
  }
}
