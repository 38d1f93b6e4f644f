// Per-user token buckets for submissions, answering with what the RateLimit
// headers need. In memory per replica: with N replicas a user gets at most
// N times the rate, which bounds abuse without shared state.
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a token is available again. */
  resetSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(perMinute: number, burst: number, now: () => number = Date.now) {
    this.perSecond = perMinute / 60;
    this.burst = burst;
    this.now = now;
  }

  take(user: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(user) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(user, bucket);
    return {
      allowed,
      limit: this.burst,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / this.perSecond),
    };
  }
}
