import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workDirSlackBytes } from '../../crds/work-dir.ts';
import { allowedBytes, directorySize, entryViolation, sizeViolation } from './work-dir-guard.ts';
import { planPrefix } from './yt-dlp-args.ts';

const Mi = 2 ** 20;

describe('allowedBytes', () => {
  it.each([
    ['starting', 100 * Mi, 1000 * Mi, 100 * Mi + workDirSlackBytes],
    ['downloading', 100 * Mi, 1000 * Mi, 100 * Mi + workDirSlackBytes],
    // A small bound wins over the file's own limit.
    ['downloading', 100 * Mi, 3 * Mi, 3 * Mi],
    // A merge holds the parts and the merged file: the whole bound.
    ['merging', 100 * Mi, 1000 * Mi, 1000 * Mi],
  ] as const)('while %s with files up to %d bytes and a bound of %d: %d', (stage, max, limit, expected) => {
    expect(allowedBytes(stage, max, limit)).toBe(expected);
  });
});

describe('sizeViolation', () => {
  it('lets the work dir fill up to the allowance', () => {
    expect(sizeViolation(10, 10, 5)).toBeUndefined();
  });
  it('stops it past the allowance, as a file too large', () => {
    expect(sizeViolation(11, 10, 5)).toEqual({
      reason: 'FileTooLarge',
      message: 'the download grew past 10 bytes on disk (the limit is 5 bytes per file) and was stopped',
    });
  });
});

describe('entryViolation', () => {
  const plan = (id: string) => `${planPrefix}{"format":"${id}","size":1,"title":"t","duration":1}`;
  it.each([
    ['', undefined],
    [plan('18'), undefined],
    [`${plan('137+140')}\nVDLDONE {"file":"/w/a.mp4"}`, undefined],
  ])('allows one entry: %j', (text, expected) => {
    expect(entryViolation(text)).toBe(expected);
  });
  it('refuses a second entry', () => {
    expect(entryViolation(`${plan('18')}\n${plan('18')}\n`)?.reason).toBe('TooManyEntries');
  });
});

describe('directorySize', () => {
  it('adds up the files of every folder below, and is 0 for a folder that is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vdl-guard-'));
    await mkdir(join(dir, 'out', 'deep'), { recursive: true });
    await writeFile(join(dir, 'events.jsonl'), 'x'.repeat(10));
    await writeFile(join(dir, 'out', 'video.mp4.part'), Buffer.alloc(1000));
    await writeFile(join(dir, 'out', 'deep', 'frag1'), Buffer.alloc(24));
    expect(await directorySize(dir)).toBe(1034);
    expect(await directorySize(join(dir, 'missing'))).toBe(0);
  });
});
