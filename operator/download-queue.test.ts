import { describe, expect, it } from 'vitest';
import { decideQueue, type Waiting } from './download-queue.ts';

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
