import { describe, expect, it } from 'vitest';
import { download } from '../test-fixtures.ts';
import { decideQueue, queueSnapshot, type Waiting } from './download-queue.ts';

function waiting(owner: string, count: number, start = 0): Waiting[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${owner}-${i + 1}`, owner, createdAt: start + i }));
}

describe('decideQueue', () => {
  it('admits nothing when the global limit is used up', () => {
    const decision = decideQueue(waiting('a', 2), new Map([['b', 4]]), {
      maxActive: 4,
      maxActivePerOwner: 4,
    });
    expect([...decision.admitted]).toEqual([]);
    expect(decision.order).toEqual(['a-1', 'a-2']);
  });

  it('is FIFO within one owner', () => {
    const decision = decideQueue(waiting('a', 5), new Map(), { maxActive: 2, maxActivePerOwner: 5 });
    expect([...decision.admitted]).toEqual(['a-1', 'a-2']);
  });

  it("starts every owner's first download before anyone's third (30, 5 and 1 with a limit of 4)", () => {
    const all = [...waiting('big', 30, 0), ...waiting('mid', 5, 100), ...waiting('one', 1, 200)];
    const decision = decideQueue(all, new Map(), { maxActive: 4, maxActivePerOwner: 4 });
    expect([...decision.admitted]).toEqual(['big-1', 'mid-1', 'one-1', 'big-2']);
    const position = (key: string) => decision.order.indexOf(key);
    for (const owner of ['big', 'mid', 'one']) {
      expect(position(`${owner}-1`)).toBeLessThan(position('big-3'));
      expect(position(`${owner}-1`)).toBeLessThan(position('mid-3'));
    }
  });

  it('holds the per-owner limit while others may still start', () => {
    const decision = decideQueue([...waiting('a', 3), ...waiting('b', 1, 10)], new Map([['a', 2]]), {
      maxActive: 10,
      maxActivePerOwner: 2,
    });
    expect([...decision.admitted]).toEqual(['b-1']);
  });

  it('prefers owners with fewer running downloads', () => {
    const decision = decideQueue([...waiting('a', 2), ...waiting('b', 2, 10)], new Map([['a', 1]]), {
      maxActive: 2,
      maxActivePerOwner: 5,
    });
    expect([...decision.admitted]).toEqual(['b-1']);
  });

  it('breaks ties of creation time by key, so every replica decides the same', () => {
    const same = [
      { key: 'z', owner: 'o', createdAt: 5 },
      { key: 'y', owner: 'o', createdAt: 5 },
    ];
    expect(decideQueue(same, new Map(), { maxActive: 1, maxActivePerOwner: 1 }).order).toEqual(['y', 'z']);
  });
});

describe('queueSnapshot', () => {
  const jobOf = (name: string, finished = false) => ({
    metadata: { name, namespace: 'team', labels: { 'vdl.dev/download': name } },
    status: finished ? { conditions: [{ type: 'Complete', status: 'True' }] } : {},
  });

  it('counts a Job once when both the cache and an expectation hold it', () => {
    // The create call can return after the watch delivered the Job: the expectation is stale.
    const snapshot = queueSnapshot([download('a'), download('b')], [jobOf('a')], new Map([['team/a', 'a']]));
    expect(snapshot.active).toEqual(new Map([['namespace:team', 1]]));
    expect(snapshot.fulfilled).toEqual(['team/a']);
    expect(snapshot.waiting.map((w) => w.key)).toEqual(['team/b']);
  });

  it('counts expected Jobs the cache has not seen yet, and frees finished ones', () => {
    const finished = download('done', {}, { status: { phase: 'Succeeded' } });
    const snapshot = queueSnapshot(
      [download('a'), download('b'), finished],
      [jobOf('done', true), jobOf('x')],
      new Map([['team/a', 'a']]),
    );
    expect(snapshot.active).toEqual(new Map([['namespace:team', 2]]));
    expect(snapshot.waiting.map((w) => w.key)).toEqual(['team/b']);
  });
});
