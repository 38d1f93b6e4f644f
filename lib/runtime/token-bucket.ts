// A token bucket on an injected clock, the one both programs use: the
// operator's work queue reserves tokens (retries wait their turn), the API's
// rate limiter takes them only when there (a request over the rate is refused).

export class TokenBucket {
  private balance: number;
  private last: number;
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  /** Starts full: burst tokens, refilled at perSecond up to burst. */
  constructor(perSecond: number, burst: number, now: () => number = Date.now) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
    this.balance = burst;
    this.last = now();
  }

  /** Tokens there now (fractional; negative while reservations are owed). */
  available(): number {
    const now = this.now();
    this.balance = Math.min(this.burst, this.balance + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    return this.balance;
  }

  /** Takes a token whether or not one is there; the milliseconds until it would have been. */
  reserve(): number {
    this.balance = this.available() - 1;
    return this.balance >= 0 ? 0 : (-this.balance / this.perSecond) * 1000;
  }

  /** Takes a token if a whole one is there. */
  tryTake(): boolean {
    if (this.available() < 1) return false;
    this.balance -= 1;
    return true;
  }

  /** Seconds until a whole token is there (0 when one is). */
  secondsUntilToken(): number {
    const balance = this.available();
    return balance >= 1 ? 0 : Math.ceil((1 - balance) / this.perSecond);
  }
}
