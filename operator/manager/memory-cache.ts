// A Cache over objects held in memory, for unit tests of what reads caches:
// keyed "namespace/name" as an informer's, with the same secondary index.
import { type CachedObject, objectKey } from '../../lib/kube/informer.ts';
import type { Cache } from './controller.ts';

export class MemoryCache<T extends CachedObject> implements Cache<T> {
  private readonly objects = new Map<string, T>();
  private readonly indexBy: ((object: T) => string | undefined) | undefined;

  constructor(objects: T[] = [], indexBy?: (object: T) => string | undefined) {
    this.indexBy = indexBy;
    for (const object of objects) this.put(object);
  }

  put(object: T): void {
    this.objects.set(objectKey(object), object);
  }

  delete(key: string): void {
    this.objects.delete(key);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  byIndex(value: string): T[] {
    return this.list().filter((object) => this.indexBy?.(object) === value);
  }
}
