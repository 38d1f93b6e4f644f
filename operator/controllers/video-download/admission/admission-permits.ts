// The admissions of the latest fair-queue decision that no reconcile has used
// yet. Deciding looks at every cached download and Job (O(n)); doing it for
// every admission made a burst of n submissions cost O(n²) (10,000 downloads:
// minutes of CPU). A reconcile whose key the latest decision admitted uses
// that permit instead of deciding again. Limits still hold: the decision gave
// out no more permits than it had free slots, each permit is used once, and
// every fresh decision replaces all permits; what changed since (Jobs
// finishing, downloads going) can only free slots. A key without a permit
// gets a fresh decision, so nothing waits on a stale one.
export class AdmissionPermits {
  private permits = new Set<string>();

  /** Replaces every permit with the admissions of a fresh decision. */
  grant(admitted: Iterable<string>): void {
    this.permits = new Set(admitted);
  }

  /** Uses key's permit: true at most once per grant. */
  take(key: string): boolean {
    return this.permits.delete(key);
  }
}
