import { describe, expect, it } from 'vitest';
import type { VideoDownload } from '../crds/video-download.ts';
import { decodeCursor, encodeCursor, pageOf } from './download-list.ts';

const made = (name: string, at: string, phase?: 'Succeeded' | 'Running'): VideoDownload =>
  ({
    metadata: { name, creationTimestamp: at, uid: `uid-${name}` },
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
    expect(names(pageOf(all, [], { limit: 50, ...query }))).toEqual(expected);
  });

  it('pages behind a cursor that stays stable as newer downloads arrive', () => {
    const first = pageOf(all, [], { limit: 2 });
    expect(names(first)).toEqual(['d', 'c']);
    const cursor = first.next_cursor ?? '';
    const newer = [...all, made('e', '2026-01-01T00:00:09Z')];
    const second = pageOf(newer, [], { limit: 2, cursor: decodeCursor(cursor) });
    expect(names(second)).toEqual(['b', 'a']);
    expect(second.next_cursor).toBeNull();
  });

  it('merges archived downloads into the same order, each listed once (live wins), and pages across both', () => {
    const archived = [
      made('z', '2026-01-01T00:00:05Z', 'Succeeded'),
      made('a', '2026-01-01T00:00:01Z', 'Succeeded'),
    ];
    const live = all.filter((d) => d.metadata.name !== 'a');
    expect(names(pageOf(live, archived, { limit: 50 }))).toEqual(['z', 'd', 'c', 'b', 'a']);
    // The same download live and archived (finished, not yet deleted): once.
    expect(names(pageOf(all, [made('a', '2026-01-01T00:00:01Z', 'Succeeded')], { limit: 50 }))).toEqual([
      'd',
      'c',
      'b',
      'a',
    ]);
    const first = pageOf(live, archived, { limit: 3 });
    expect(names(first)).toEqual(['z', 'd', 'c']);
    const cursor = decodeCursor(first.next_cursor ?? '');
    expect(cursor).toEqual({ createdAt: '2026-01-01T00:00:03Z', name: 'c' });
  });

  it('filters live downloads by text in the title or URL and by creation dates', () => {
    expect(names(pageOf(all, [], { limit: 50, q: 'V.EXAMPLE/B' }))).toEqual(['b']);
    const window = { from: new Date('2026-01-01T00:00:02Z'), to: new Date('2026-01-01T00:00:03Z') };
    expect(names(pageOf(all, [], { limit: 50, ...window }))).toEqual(['b']);
  });

  it('refuses a cursor it did not hand out, with a 400 naming it', () => {
    for (const bad of [
      'garbage',
      Buffer.from('2026-13-99T00:00:00Z|x').toString('base64url'),
      Buffer.from("x'|y").toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(/cursor: not a cursor this API handed out/);
    }
    // kubectl names may hold dots: a page that ends on one pages on.
    expect(decodeCursor(encodeCursor({ createdAt: '2026-01-01T00:00:03Z', name: 'talk.part1' })).name).toBe(
      'talk.part1',
    );
    expect(decodeCursor(encodeCursor({ createdAt: '2026-01-01T00:00:03Z', name: 'c' }))).toEqual({
      createdAt: '2026-01-01T00:00:03Z',
      name: 'c',
    });
  });
});
