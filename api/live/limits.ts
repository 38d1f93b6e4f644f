// Bounds on the live streams (WebSocket and SSE), so one client cannot make
// an API process fan out without end: connections per user, ids per socket,
// and which ids of a subscribe message a socket starts to follow.
import { type ProblemError, problems } from '../problem.ts';

/** Open live connections per user, in this process. */
export class LiveConnections {
  private readonly open = new Map<string, number>();
  private readonly max: number;

  constructor(maxPerUser: number) {
    this.max = maxPerUser;
  }

  /** Takes a connection for user; undefined when they hold the maximum. The returned function lets go, once. */
  take(user: string): (() => void) | undefined {
    const held = this.open.get(user) ?? 0;
    if (held >= this.max) return undefined;
    this.open.set(user, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.open.get(user) ?? 1) - 1;
      if (now === 0) this.open.delete(user);
      else this.open.set(user, now);
    };
  }

  held(user: string): number {
    return this.open.get(user) ?? 0;
  }
}

/** The 429 of a user who holds the most live streams (SSE and WebSocket alike). */
export function tooManyLiveStreams(maxPerUser: number): ProblemError {
  return problems.tooManyRequests(
    `you have ${maxPerUser} live streams open on this API replica, the most allowed`,
    5,
  );
}

/** Ids in one subscribe message, at most; more is a malformed message. */
export const maxIdsPerMessage = 100;

export type SubscribePlan =
  | { kind: 'invalid'; detail: string }
  | { kind: 'ok'; named: string[]; added: string[]; unknown: string[] }
  | { kind: 'over-cap'; detail: string };

/**
 * Reads a WebSocket message: the ids it names that the caller may see (each once), which of
 * them are new to this socket, the unknown ones, or why the message is refused as a whole.
 */
export function planSubscribe(
  text: string,
  following: ReadonlySet<string>,
  maxPerSocket: number,
  visible: (id: string) => boolean,
): SubscribePlan {
  let ids: unknown;
  try {
    ids = (JSON.parse(text) as { subscribe?: unknown } | null)?.subscribe;
  } catch {
    ids = undefined;
  }
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > maxIdsPerMessage)
    return {
      kind: 'invalid',
      detail: `send {"subscribe": ["<job_id>", ...]} with 1 to ${maxIdsPerMessage} ids`,
    };
  // An id named twice, in one message or over many, is followed once: one listener per socket per id.
  const named: string[] = [];
  const unknown: string[] = [];
  for (const id of new Set(ids)) {
    // Only a string can name a download; anything else is as unknown as a name nobody has.
    if (typeof id === 'string' && visible(id)) named.push(id);
    else unknown.push(String(id));
  }
  const added = named.filter((id) => !following.has(id));
  if (following.size + added.length > maxPerSocket)
    return {
      kind: 'over-cap',
      detail: `a WebSocket follows at most ${maxPerSocket} unfinished downloads; this one follows ${following.size} and asked for ${added.length} more`,
    };
  return { kind: 'ok', named, added, unknown };
}
