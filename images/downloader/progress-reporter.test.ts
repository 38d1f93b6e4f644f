import { describe, expect, it } from 'vitest';
import { shouldReport } from './progress-reporter.ts';

describe('shouldReport', () => {
  it('writes the first update, every change of stage, and otherwise once per interval', () => {
    expect(shouldReport(undefined, { at: 0, stage: 'starting' })).toBe(true);
    expect(shouldReport({ at: 0, stage: 'downloading' }, { at: 999, stage: 'downloading' })).toBe(false);
    expect(shouldReport({ at: 0, stage: 'downloading' }, { at: 1000, stage: 'downloading' })).toBe(true);
    expect(shouldReport({ at: 0, stage: 'downloading' }, { at: 10, stage: 'merging' })).toBe(true);
  });
});
