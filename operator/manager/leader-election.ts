// One active operator: leadership is a coordination.k8s.io Lease, with
// controller-runtime's timings (lease 15 s, renew deadline 10 s, retry 2 s).
// Two rules keep it to one leader, as in client-go: a leader that has not
// renewed within the renew deadline steps down (every call is time-boxed to
// it, so a hung request cannot keep leading=true), and a candidate takes over
// only when the lease duration has passed on ITS OWN clock since it saw the
// holder's record change; the holder's renewTime is never compared with the
// local clock, so clock skew between machines cannot cause a takeover.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaderElectionOptions {
  config: k8s.KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** A monotonic clock in milliseconds; the decisions below read only this. */
  now?: () => number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** When this candidate last saw the holder's record change, by its own clock. */
export interface Observation {
  record: string;
  at: number;
}

/** What changes on every renew or hand-over; a change restarts the candidate's wait. */
function recordOf(spec: k8s.V1LeaseSpec | undefined): string {
  const time = (value: Date | undefined) => (value ? new Date(value).toISOString() : '');
  return JSON.stringify([
    spec?.holderIdentity ?? '',
    time(spec?.renewTime),
    time(spec?.acquireTime),
    spec?.leaseTransitions ?? 0,
    spec?.leaseDurationSeconds ?? 0,
  ]);
}

/** Pure: the observation after reading `spec` at `now` (kept while the record is unchanged). */
export function observe(
  previous: Observation | undefined,
  spec: k8s.V1LeaseSpec | undefined,
  now: number,
): Observation {
  const record = recordOf(spec);
  return previous?.record === record ? previous : { record, at: now };
}

/** Pure: may this candidate take (or keep) the lease now? Reads only the local clock. */
export function canAcquire(
  spec: k8s.V1LeaseSpec | undefined,
  identity: string,
  observed: Observation,
  now: number,
): boolean {
  if (!spec?.holderIdentity || spec.holderIdentity === identity) return true;
  return now - observed.at >= (spec.leaseDurationSeconds ?? 15) * 1000;
}

/**
 * Pure: milliseconds a leader has left before it must step down. The deadline
 * counts from when the last successful renew was SENT: the API server wrote it
 * after that, so a candidate saw it no earlier, and the lease duration (longer
 * than the deadline) on its clock has not passed when this leader stops.
 */
export function renewTimeLeft(lastRenewSentAt: number, now: number, renewDeadlineMs: number): number {
  return lastRenewSentAt + renewDeadlineMs - now;
}

function micro(date: Date): k8s.V1MicroTime {
  return new k8s.V1MicroTime(date.getTime());
}

/** Request options that abort the call with `signal` (client-node takes it per request). */
function abortingWith(signal: AbortSignal): k8s.ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return new k8s.Observable(Promise.resolve(context));
        },
        post: (response) => new k8s.Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

const codeOf = (error: unknown) => (error as { code?: number }).code;

/** A write another candidate beat (409 Conflict) is a lost race, not an error. */
async function wonRace(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (codeOf(error) === 409) return false;
    throw error;
  }
}

export class LeaderElector {
  private readonly api: k8s.CoordinationV1Api;
  private readonly options: Required<Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading'>> &
    LeaderElectionOptions;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private lastRenewSentAt = 0;
  private observed: Observation | undefined;
  private stopped = false;
  leading = false;

  constructor(options: LeaderElectionOptions) {
    this.options = {
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: () => performance.now(),
      ...options,
    };
    if (this.options.renewDeadlineMs >= this.options.leaseDurationSeconds * 1000)
      throw new Error('the renew deadline must be shorter than the lease duration');
    this.api = options.config.makeApiClient(k8s.CoordinationV1Api);
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.setLeading(false);
    const { name, namespace, identity, renewDeadlineMs } = this.options;
    const options = abortingWith(AbortSignal.timeout(renewDeadlineMs));
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace }, options);
      if (lease.spec?.holderIdentity === identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.renewTime = undefined;
        lease.spec.acquireTime = undefined;
        await this.api.replaceNamespacedLease({ name, namespace, body: lease }, options);
      }
    } catch (error) {
      this.options.logger.warn({ err: String(error) }, 'could not release the leader lease; it will expire');
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.logger.info(
      { identity: this.options.identity, leading },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  private timeLeft(): number {
    return renewTimeLeft(this.lastRenewSentAt, this.options.now(), this.options.renewDeadlineMs);
  }

  /** Steps down at the deadline by a timer of its own, whatever a pending request does. */
  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => {
        if (this.timeLeft() > 0) return this.armDeadline();
        this.options.logger.warn({ identity: this.options.identity }, 'renew deadline passed');
        this.setLeading(false);
      },
      Math.max(0, this.timeLeft()),
    );
    this.deadlineTimer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.options.now();
    // The whole attempt (read and write) ends by the deadline; a candidate gets as long.
    const budget = this.leading ? this.timeLeft() : this.options.renewDeadlineMs;
    try {
      const acquired = await this.tryAcquireOrRenew(AbortSignal.timeout(Math.max(1, Math.floor(budget))));
      if (this.stopped) return;
      if (acquired && renewTimeLeft(sentAt, this.options.now(), this.options.renewDeadlineMs) > 0) {
        this.lastRenewSentAt = sentAt;
        this.armDeadline();
        this.setLeading(true);
      } else if (!acquired) {
        this.setLeading(false);
      }
    } catch (error) {
      // Unreachable or hung API server: keep leading until the deadline (its timer steps down).
      this.options.logger.warn({ err: String(error) }, 'leader election request failed');
      if (this.leading && this.timeLeft() <= 0) this.setLeading(false);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { name, namespace, identity, leaseDurationSeconds } = this.options;
    const options = abortingWith(signal);
    const wallClock = new Date(); // only written into the Lease, for people and tools
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, options);
    } catch (error) {
      if (codeOf(error) !== 404) throw error;
    }
    if (!lease)
      return wonRace(() =>
        this.api.createNamespacedLease(
          {
            namespace,
            body: {
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds,
                acquireTime: micro(wallClock),
                renewTime: micro(wallClock),
                leaseTransitions: 0,
              },
            },
          },
          options,
        ),
      );
    this.observed = observe(this.observed, lease.spec, this.options.now());
    if (!canAcquire(lease.spec, identity, this.observed, this.options.now())) return false;
    const spec = lease.spec ?? {};
    const takingOver = spec.holderIdentity !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: micro(wallClock),
      acquireTime: takingOver ? micro(wallClock) : spec.acquireTime,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && spec.holderIdentity ? 1 : 0),
    };
    // The resourceVersion in lease makes this a compare-and-swap: two candidates cannot both win.
    return wonRace(() => this.api.replaceNamespacedLease({ name, namespace, body: lease }, options));
  }
}
