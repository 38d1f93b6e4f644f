import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../crds/video-download.ts';
import { pageOf } from './download-list.ts';

const made = (name: string, at: string, phase?: 'Succeeded' | 'Running'): VideoDownload =>
  ({
    metadata: { name, creationTimestamp: at },
    spec: { url: `https://v.example/${name}` },
    ...(phase ? { status: { phase } } : {}),
  }) as VideoDownload;

const all = [
  made('a', '2026-01-01T00:00:01Z', 'Succeeded'),
  made('c', '2026-01-01T00:00:03Z'),
  made('b', '2026-01-01T00:00:02Z', 'Running'),
  made('d', '2026-01-01T00:00:03Z', 'Succeeded'),
];
const names = (page: ReturnType<typeof pageOf>) => page.items.map((item) => item.job_id);

describe('pageOf', () => {
  it.each([
    ['everything, newest first, name breaking ties', {}, ['d', 'c', 'b', 'a']],
    ['one state', { state: 'DONE' as const }, ['d', 'a']],
    ['a state none is in', { state: 'FAILED' as const }, []],
  ])('%s', (_what, query, expected) => {
    expect(names(pageOf(all, { limit: 50, ...query }))).toEqual(expected);
  });

  it('pages behind a cursor that stays stable as newer downloads arrive', () => {
    const first = pageOf(all, { limit: 2 });
    expect(names(first)).toEqual(['d', 'c']);
    const cursor = first.next_cursor ?? '';
    const newer = [...all, made('e', '2026-01-01T00:00:09Z')];
    const second = pageOf(newer, { limit: 2, cursor });
    expect(names(second)).toEqual(['b', 'a']);
    expect(second.next_cursor).toBeNull();
  });
});
