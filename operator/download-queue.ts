// Which waiting downloads may start now: global and per-owner limits, and a
// fair order across owners (the owner with the fewest running goes first,
// FIFO within one owner). Pure: its only state is the resources themselves,
// so the queue survives operator restarts.

export interface QueueLimits {
  maxActive: number;
  maxActivePerOwner: number;
}

export interface Waiting {
  key: string;
  owner: string;
  /** creationTimestamp in ms; ties broken by key. */
  createdAt: number;
}

export interface QueueDecision {
  /** Keys that may start now. */
  admitted: Set<string>;
  /** Fair start order of every waiting key (admitted ones first). */
  order: string[];
}

export function decideQueue(
  waiting: Waiting[],
  activeByOwner: Map<string, number>,
  limits: QueueLimits,
): QueueDecision {
  const byOwner = new Map<string, Waiting[]>();
  for (const entry of [...waiting].sort((a, b) => a.createdAt - b.createdAt || a.key.localeCompare(b.key))) {
    const list = byOwner.get(entry.owner) ?? [];
    list.push(entry);
    byOwner.set(entry.owner, list);
  }
  const running = new Map(activeByOwner);
  let free = limits.maxActive - [...activeByOwner.values()].reduce((sum, n) => sum + n, 0);
  const admitted = new Set<string>();
  const order: string[] = [];
  const cursor = new Map<string, number>();

  for (;;) {
    // Next owner: fewest running (counting those started in this decision), then the oldest waiting entry.
    let best: { owner: string; entry: Waiting; count: number } | undefined;
    for (const [owner, list] of byOwner) {
      const entry = list[cursor.get(owner) ?? 0];
      if (!entry) continue;
      const count = running.get(owner) ?? 0;
      if (
        !best ||
        count < best.count ||
        (count === best.count &&
          (entry.createdAt < best.entry.createdAt ||
            (entry.createdAt === best.entry.createdAt && entry.key < best.entry.key)))
      ) {
        best = { owner, entry, count };
      }
    }
    if (!best) break;
    cursor.set(best.owner, (cursor.get(best.owner) ?? 0) + 1);
    running.set(best.owner, best.count + 1);
    order.push(best.entry.key);
    if (free > 0 && best.count < limits.maxActivePerOwner) {
      admitted.add(best.entry.key);
      free -= 1;
    }
  }
  return { admitted, order };
}
