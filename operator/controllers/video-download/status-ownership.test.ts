import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VideoDownloadStatus } from '../../../crds/video-download.ts';
import { statusPatch } from './reconciler.ts';
import { podOwnedStatusFields, statusOwners } from './status-ownership.ts';

const policy = readFileSync(
  new URL('../../../charts/vdl/templates/downloader-status-policy.yaml', import.meta.url),
  'utf8',
);

/** A value of each status field, and another, so a patch between them has something to say. */
const samples: Record<string, [unknown, unknown]> = {
  progress: [
    { stage: 'downloading', percent: 10 },
    { stage: 'downloading', percent: 20 },
  ],
  conditions: [[], [{ type: 'Ready', status: 'True', reason: 'Downloaded', message: '' }]],
  jobName: ['clip', 'clip-2'],
  attempts: [1, 2],
  startTime: ['2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'],
  completionTime: ['2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'],
  observedGeneration: [1, 2],
  result: [undefined, { bucket: 'vdl', key: 'k', size: 1, sha256: 'a'.repeat(64) }],
  reason: ['A', 'B'],
  message: ['a', 'b'],
};

describe('status ownership', () => {
  it('names a writer for every field of the status schema', () => {
    expect(Object.keys(statusOwners).sort()).toEqual(Object.keys(VideoDownloadStatus.shape).sort());
  });

  it("is what the chart's policy lets a download pod write: exactly the pod's fields", () => {
    const exempt = new Set([...policy.matchAll(/k == '(\w+)'/g)].map((match) => match[1]));
    expect([...exempt].sort()).toEqual([...podOwnedStatusFields].sort());
  });

  it.each(
    Object.entries(samples).map(([field, [before, after]]) => [
      field,
      statusOwners[field as 'phase'],
      before,
      after,
    ]),
  )(
    'the operator patches %s (owned by the %s) while the phase holds only when it owns it',
    (field, owner, before, after) => {
      const patch = statusPatch({ phase: 'Running', [field]: before }, { phase: 'Running', [field]: after });
      expect(patch !== undefined && field in patch).toBe(owner === 'operator');
      // On a phase change the operator sets every field, the pod's included.
      expect(
        statusPatch({ phase: 'Running', [field]: before }, { phase: 'Succeeded', [field]: after }),
      ).toHaveProperty(field);
    },
  );

  it("never patches the notifier's notification, not even on a phase change", () => {
    const delivered = { state: 'Delivered', attempts: 1, deliveredAt: '2026-01-01T00:00:00Z' } as const;
    for (const phase of ['Running', 'Succeeded'] as const) {
      const patch = statusPatch(
        { phase: 'Running', notification: delivered },
        { phase, notification: undefined },
      );
      expect(Object.keys(patch ?? {})).not.toContain('notification');
    }
  });
});
