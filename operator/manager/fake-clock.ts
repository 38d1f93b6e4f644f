// A Clock for unit tests: time moves only when the test says so, and timers
// due by then fire in order. It records every delay asked for.
import type { Clock, Timer } from './clock.ts';

interface Pending extends Timer {
  at: number;
  callback: () => void;
  cleared: boolean;
}

export class FakeClock implements Clock {
  private current: number;
  private readonly pending: Pending[] = [];
  /** Every delay passed to setTimeout, in order. */
  readonly delays: number[] = [];

  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    this.delays.push(delayMs);
    const timer: Pending = { at: this.current + delayMs, callback, cleared: false, unref: () => timer };
    this.pending.push(timer);
    return timer;
  }

  clearTimeout(timer: Timer): void {
    (timer as Pending).cleared = true;
  }

  /** Timers not yet fired nor cleared. */
  get timers(): number {
    return this.pending.filter((timer) => !timer.cleared).length;
  }

  /** Moves time forward by ms, firing every timer due on the way, earliest first. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const due = this.pending
        .filter((timer) => !timer.cleared && timer.at <= until)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      due.cleared = true;
      due.callback();
    }
    this.current = until;
  }

  /** Sets the wall clock (a test of something that happened long ago); timers due fire. */
  set(time: Date | string | number): void {
    this.advance(new Date(time).getTime() - this.current);
  }
}
