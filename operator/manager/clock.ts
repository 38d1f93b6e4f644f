// The operator's one source of time: wall-clock now() and timers. Everything
// that reads the time (the reconciler, admission, the work queue's delays)
// takes a Clock, so unit tests drive time with a fake one instead of waiting.

/** A pending timer; only clearTimeout reads it. */
export type Timer = { unref?: () => unknown };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): Timer;
  clearTimeout(timer: Timer): void;
}

/** Node's clock. Timers do not hold the process open: a delayed re-queue is no reason to stay up. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
