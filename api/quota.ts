// The per-user cap on unfinished downloads, reserved before the create and
// made atomic by the API server: one ConfigMap per user lists the names that
// hold a slot, and every change is an update on the resourceVersion read, so
// of two replicas racing for the last slot one gets 409, reads again and
// counts the other's reservation. Names whose downloads finished or are gone
// are pruned on the way.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { labels, type VideoDownload } from '../crds/video-download.ts';
import { ProblemError } from './problem.ts';
import { isFinished } from './status-view.ts';

export type Standing = 'unfinished' | 'finished' | 'unknown';

/** ConfigMap data: download name → when its slot was reserved (ISO 8601). */
export type Reservations = Record<string, string>;

/**
 * The reservations that still hold a slot: unfinished downloads, and names not (yet) in this
 * replica's cache that were reserved within graceMs (a create still in flight, maybe on another
 * replica). Finished downloads, and unknown names older than that, let go.
 */
export function activeReservations(
  reservations: Reservations,
  standing: (name: string) => Standing,
  nowMs: number,
  graceMs: number,
): Reservations {
  const active: Reservations = {};
  for (const [name, reservedAt] of Object.entries(reservations)) {
    const state = standing(name);
    const age = nowMs - Date.parse(reservedAt);
    if (state === 'unfinished' || (state === 'unknown' && age >= 0 && age < graceMs))
      active[name] = reservedAt;
  }
  return active;
}

/** A ConfigMap name for any user (user names may hold characters object names may not). */
export function quotaObjectName(user: string): string {
  return `vdl-quota-${createHash('sha256').update(user).digest('hex').slice(0, 24)}`;
}

export type QuotaDecision = { allowed: true } | { allowed: false; active: number };
export type QuotaChange = { kind: 'reserve' | 'release'; name: string };

/**
 * Decides a batch of one user's reservations and releases, in order, on one copy of their
 * counter: what each is answered, and the counter to write (undefined: nothing to write).
 */
export function decideChanges(input: {
  reservations: Reservations;
  changes: QuotaChange[];
  standing: (name: string) => Standing;
  /** The user's unfinished downloads in the cache: those made with kubectl hold slots too. */
  unfinished: string[];
  limit: number;
  nowMs: number;
  graceMs: number;
}): { decisions: QuotaDecision[]; next?: Reservations } {
  const active = activeReservations(input.reservations, input.standing, input.nowMs, input.graceMs);
  let changed = false;
  const decisions = input.changes.map((change): QuotaDecision => {
    if (change.kind === 'release') {
      if (change.name in active) {
        delete active[change.name];
        changed = true;
      }
      return { allowed: true };
    }
    if (change.name in active) return { allowed: true };
    const holding = new Set([...Object.keys(active), ...input.unfinished]);
    if (holding.size >= input.limit) return { allowed: false, active: holding.size };
    active[change.name] = new Date(input.nowMs).toISOString();
    changed = true;
    return { allowed: true };
  });
  return { decisions, next: changed ? active : undefined };
}

interface QuotaOptions {
  core: k8s.CoreV1Api;
  namespace: string;
  limit: number;
  /** The user's downloads in this replica's cache, and one by name. */
  downloadsOf: (user: string) => VideoDownload[];
  download: (name: string) => VideoDownload | undefined;
  graceMs?: number;
  now?: () => number;
}

interface Waiting {
  change: QuotaChange;
  resolve: (decision: QuotaDecision) => void;
  reject: (error: unknown) => void;
}

const maxAttempts = 20;

export class Quota {
  private readonly options: Required<QuotaOptions>;
  /** The last copy of each user's ConfigMap this replica read or wrote: usually current, so no GET. */
  private readonly known = new Map<string, k8s.V1ConfigMap | null>();
  /**
   * Changes waiting while a write of the same user is in flight: the next write decides them all
   * at once, so one replica never conflicts with itself and a burst of submissions costs a few
   * writes, not one each.
   */
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly writing = new Set<string>();

  constructor(options: QuotaOptions) {
    this.options = { graceMs: 120_000, now: Date.now, ...options };
  }

  /** Reserves a slot for the download `name` of `user`, unless they hold `limit` already. */
  reserve(user: string, name: string): Promise<QuotaDecision> {
    return this.enqueue(user, { kind: 'reserve', name });
  }

  /** Gives the slot of a download that was not created back. */
  async release(user: string, name: string): Promise<void> {
    await this.enqueue(user, { kind: 'release', name });
  }

  private enqueue(user: string, change: QuotaChange): Promise<QuotaDecision> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(user) ?? [];
      list.push({ change, resolve, reject });
      this.waiting.set(user, list);
      if (!this.writing.has(user)) void this.drain(user);
    });
  }

  private async drain(user: string): Promise<void> {
    this.writing.add(user);
    try {
      for (;;) {
        const batch = this.waiting.get(user);
        if (!batch?.length) break;
        this.waiting.delete(user);
        try {
          const decisions = await this.write(
            user,
            batch.map((w) => w.change),
          );
          batch.forEach((w, i) => {
            w.resolve(decisions[i] as QuotaDecision);
          });
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.writing.delete(user);
    }
  }

  private async write(user: string, changes: QuotaChange[]): Promise<QuotaDecision[]> {
    const { core, namespace, limit, downloadsOf, download, graceMs, now } = this.options;
    const name = quotaObjectName(user);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const fresh = !this.known.has(user);
      const current = fresh ? await this.read(name) : (this.known.get(user) ?? null);
      this.known.set(user, current);
      const { decisions, next } = decideChanges({
        reservations: current?.data ?? {},
        changes,
        standing: (other) => {
          const found = download(other);
          if (!found) return 'unknown';
          return isFinished(found) ? 'finished' : 'unfinished';
        },
        unfinished: downloadsOf(user)
          .filter((d) => !isFinished(d))
          .map((d) => d.metadata.name as string),
        limit,
        nowMs: now(),
        graceMs,
      });
      // A copy of our own may be out of date (another replica let slots go): refuse on a fresh read only.
      if (!fresh && decisions.some((d) => !d.allowed)) {
        this.known.delete(user);
        continue;
      }
      if (!next) return decisions;
      try {
        const written = current
          ? await core.replaceNamespacedConfigMap({
              name,
              namespace,
              // The resourceVersion read makes this update fail with 409 if anyone wrote in between.
              body: { ...current, data: next },
            })
          : await core.createNamespacedConfigMap({
              namespace,
              body: { metadata: { name, labels: { [labels.owner]: ownerLabel(user) } }, data: next },
            });
        this.known.set(user, written);
        return decisions;
      } catch (error) {
        this.known.delete(user);
        const code = (error as { code?: number }).code;
        // 409: written by someone else in between (or created meanwhile); 404: deleted meanwhile.
        if (code !== 409 && code !== 404) throw error;
      }
    }
    throw new ProblemError(
      503,
      'Service Unavailable',
      'too many submissions at once for this user; try again',
      {
        'Retry-After': '1',
      },
    );
  }

  private async read(name: string): Promise<k8s.V1ConfigMap | null> {
    try {
      return await this.options.core.readNamespacedConfigMap({ name, namespace: this.options.namespace });
    } catch (error) {
      if ((error as { code?: number }).code === 404) return null;
      throw error;
    }
  }
}

/** Users are label values already (api/api-keys.ts); anything else is left off rather than refused. */
function ownerLabel(user: string): string {
  return /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/.test(user) ? user : '';
}
