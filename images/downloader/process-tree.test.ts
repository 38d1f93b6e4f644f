import { describe, expect, it } from 'vitest';
import { descendantsOf, parentOf } from './process-tree.ts';

describe('parentOf', () => {
  it.each([
    ['4242 (python3) S 4000 4242 1 0 -1', 4000],
    // The command may hold spaces and parentheses.
    ['4243 (ffmpeg (x) y) R 4242 4242 1 0 -1', 4242],
    ['garbage', undefined],
  ])('%s → %s', (stat, parent) => {
    expect(parentOf(stat)).toBe(parent);
  });
});

describe('descendantsOf', () => {
  it('finds children and their children, nothing else', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
    ]);
    expect(descendantsOf(10, parents).sort()).toEqual([11, 12, 13]);
    expect(descendantsOf(20, parents)).toEqual([]);
  });
});
