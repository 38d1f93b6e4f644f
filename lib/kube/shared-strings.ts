// One copy of each short string the informer caches hold many times over.
// Every object parsed from a list or watch brings its own copies of the same
// namespace, label keys and values, owner references, kinds, phases and
// creation seconds, and the Job and pod of a download repeat its name; with
// 10,000 downloads cached those copies were about a fifth of the cache.
// The table is bounded: when full it starts afresh, so strings of objects long
// gone are not held forever (objects already kept keep sharing theirs).

/** Values never the same in two objects: not worth a table entry. */
const uniqueFields = new Set(['uid', 'resourceVersion']);
/** Longer strings (URLs, messages) are rarely repeated. */
const maxLength = 96;

export class SharedStrings {
  private table = new Map<string, string>();
  private readonly capacity: number;

  constructor(capacity = 50_000) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.table.size;
  }

  /** The table's copy of value, which becomes the copy if there is none. */
  share(value: string): string {
    if (value.length > maxLength) return value;
    const shared = this.table.get(value);
    if (shared !== undefined) return shared;
    if (this.table.size >= this.capacity) this.table = new Map();
    this.table.set(value, value);
    return value;
  }

  /** Replaces the strings in a parsed object's plain objects and arrays, in place, with shared copies. */
  shareIn<T>(value: T): T {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (typeof item === 'string') value[i] = this.share(item);
        else if (typeof item === 'object' && item !== null) this.shareIn(item);
      }
    } else if (
      typeof value === 'object' &&
      value !== null &&
      Object.getPrototypeOf(value) === Object.prototype
    ) {
      const object = value as Record<string, unknown>;
      for (const key in object) {
        const field = object[key];
        if (typeof field === 'string') {
          if (!uniqueFields.has(key)) object[key] = this.share(field);
        } else if (typeof field === 'object' && field !== null) this.shareIn(field);
      }
    }
    return value;
  }
}

/** The process's table: the caches of one program share it (a Job and its pod name their download). */
export const sharedStrings = new SharedStrings();
