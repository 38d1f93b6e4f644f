import { describe, expect, it } from 'vitest';
import { SharedStrings } from './shared-strings.ts';

// Two parses of one JSON text: equal strings, separate copies.
const parsed = () =>
  JSON.parse(
    JSON.stringify({
      metadata: {
        name: 'd1',
        namespace: 'team-a',
        uid: 'u-1',
        labels: { 'vdl.dev/owner': 'alice' },
        ownerReferences: [{ kind: 'VideoDownload', name: 'd1' }],
      },
      spec: { url: `https://example.com/${'x'.repeat(200)}` },
      status: { phase: 'Running', when: new Date(0) },
    }),
  );

describe('SharedStrings', () => {
  it('keeps one copy of each short value of many objects, and leaves the objects as they were', () => {
    const strings = new SharedStrings();
    strings.shareIn(parsed());
    expect(strings.shareIn(parsed())).toEqual(parsed());
    // d1, team-a, alice, VideoDownload, Running and the date; not the uid nor the long URL.
    expect(strings.size).toBe(6);
  });

  it('starts afresh when full, so it holds at most its capacity', () => {
    const strings = new SharedStrings(2);
    expect(strings.share('a')).toBe('a');
    strings.share('b');
    strings.share('c');
    expect(strings.size).toBe(1);
  });

  it('skips uid, resourceVersion and long strings', () => {
    const strings = new SharedStrings();
    strings.shareIn({ uid: 'u', resourceVersion: '1', url: 'y'.repeat(97), arr: ['z'] });
    expect(strings.size).toBe(1);
  });
});
