// Waiting in tests: poll a check until it yields a value or the deadline
// passes; the failure says what was waited for and what was last seen.
import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Calls check until it returns something other than undefined; throws with the last error or value seen. */
export async function eventually<T>(
  description: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen = 'nothing yet';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastSeen = 'not yet';
    } catch (error) {
      lastSeen = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}; last seen: ${lastSeen}`);
    }
    await delay(intervalMs);
  }
}
