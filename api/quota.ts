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

const maxAttempts = 20;

export class Quota {
  private readonly options: Required<QuotaOptions>;
  /** The last copy of each user's ConfigMap this replica read or wrote: usually current, so no GET. */
  private readonly known = new Map<string, k8s.V1ConfigMap | null>();
  /** One change per user at a time in this replica: its own requests never conflict with each other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: QuotaOptions) {
    this.options = { graceMs: 120_000, now: Date.now, ...options };
  }

  /** Reserves a slot for the download `name` of `user`, unless they hold `limit` already. */
  reserve(user: string, name: string): Promise<QuotaDecision> {
    const { limit, downloadsOf, download, graceMs, now } = this.options;
    return this.change<QuotaDecision>(user, (reservations, fresh) => {
      const active = activeReservations(
        reservations,
        (other) => {
          const found = download(other);
          if (!found) return 'unknown';
          return isFinished(found) ? 'finished' : 'unfinished';
        },
        now(),
        graceMs,
      );
      if (name in active) return { result: { allowed: true } };
      // Downloads made with kubectl hold slots too, though they have no reservation.
      const holding = new Set([
        ...Object.keys(active),
        ...downloadsOf(user)
          .filter((d) => !isFinished(d))
          .map((d) => d.metadata.name as string),
      ]);
      if (holding.size >= limit) {
        // A copy of our own may be out of date (another replica let slots go): refuse on a fresh read only.
        if (!fresh) return 'read-again';
        return { result: { allowed: false, active: holding.size } };
      }
      return {
        result: { allowed: true },
        next: { ...active, [name]: new Date(now()).toISOString() },
      };
    });
  }

  /** Gives the slot of a download that was not created back. */
  release(user: string, name: string): Promise<void> {
    return this.change(user, (reservations) => {
      if (!(name in reservations)) return { result: undefined };
      const { [name]: _dropped, ...rest } = reservations;
      return { result: undefined, next: rest };
    });
  }

  private change<T>(
    user: string,
    decide: (reservations: Reservations, fresh: boolean) => { result: T; next?: Reservations } | 'read-again',
  ): Promise<T> {
    const before = this.queues.get(user) ?? Promise.resolve();
    const run = before.then(
      () => this.write(user, decide),
      () => this.write(user, decide),
    );
    const tail = run.then(
      () => {},
      () => {},
    );
    this.queues.set(user, tail);
    void tail.then(() => {
      if (this.queues.get(user) === tail) this.queues.delete(user);
    });
    return run;
  }

  private async write<T>(
    user: string,
    decide: (reservations: Reservations, fresh: boolean) => { result: T; next?: Reservations } | 'read-again',
  ): Promise<T> {
    const { core, namespace } = this.options;
    const name = quotaObjectName(user);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const fresh = !this.known.has(user);
      const current = fresh ? await this.read(name) : (this.known.get(user) ?? null);
      this.known.set(user, current);
      const decision = decide(current?.data ?? {}, fresh);
      if (decision === 'read-again') {
        this.known.delete(user);
        continue;
      }
      if (!decision.next) return decision.result;
      try {
        const written = current
          ? await core.replaceNamespacedConfigMap({
              name,
              namespace,
              // The resourceVersion read makes this update fail with 409 if anyone wrote in between.
              body: { ...current, data: decision.next },
            })
          : await core.createNamespacedConfigMap({
              namespace,
              body: {
                metadata: { name, labels: { [labels.owner]: ownerLabel(user) } },
                data: decision.next,
              },
            });
        this.known.set(user, written);
        return decision.result;
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
