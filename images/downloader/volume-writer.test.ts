import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeOwnFile, removePartial } from './remove-file.ts';
import { folderModeFor, VolumeWriteError, writeToVolume } from './volume-writer.ts';

let dir: string;
let root: string;
let source: string;
// Over the 8 MiB progress step, so progress is reported on the way too.
const bytes = Buffer.alloc(9 * 2 ** 20, 7);
const sha256 = createHash('sha256').update(bytes).digest('hex');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vdl-volume-'));
  root = join(dir, 'volume');
  source = join(dir, 'file.mp4');
  await writeFile(source, bytes);
  await writeFile(join(dir, 'placeholder'), '');
  await import('node:fs/promises').then((fs) => fs.mkdir(root));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const write = (relativePath: string, extra: Partial<Parameters<typeof writeToVolume>[0]> = {}) =>
  writeToVolume({ root, relativePath, source, fileMode: 0o640, tag: 'tag', ...extra });

describe('writeToVolume', () => {
  it('writes the file at its path with its mode, folders made, no hidden copy left', async () => {
    const progress: number[] = [];
    const written = await write('Chan/Title [id].mp4', { onProgress: (n) => progress.push(n) });
    expect(written).toEqual({ size: bytes.length, sha256, preexisting: false, createdFolders: 1 });
    const target = join(root, 'Chan/Title [id].mp4');
    expect((await readFile(target)).equals(bytes)).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    expect((await stat(join(root, 'Chan'))).mode & 0o777).toBe(0o750);
    expect(await readdir(join(root, 'Chan'))).toEqual(['Title [id].mp4']);
    expect(await readdir(root)).toEqual(['Chan']);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(progress.length).toBeGreaterThan(1);
  });

  it('never overwrites: the same bytes count as written (preexisting), others fail with FileExists', async () => {
    await write('a.mp4');
    expect(await write('a.mp4')).toEqual({
      size: bytes.length,
      sha256,
      preexisting: true,
      createdFolders: 0,
    });
    await writeFile(join(root, 'b.mp4'), 'someone else');
    const error = await write('b.mp4').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VolumeWriteError);
    expect((error as VolumeWriteError).reason).toBe('FileExists');
    expect((error as VolumeWriteError).permanent).toBe(true);
    expect(await readFile(join(root, 'b.mp4'), 'utf8')).toBe('someone else');
    expect((await readdir(root)).sort()).toEqual(['a.mp4', 'b.mp4']);
  });

  it('refuses a path outside the volume', async () => {
    const error = await write('../escape.mp4').catch((e: unknown) => e);
    expect((error as VolumeWriteError).reason).toBe('InvalidPath');
    expect(await readdir(dir)).not.toContain('escape.mp4');
  });

  it('leaves nothing behind when stopped', async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(write('x/stopped.mp4', { signal: stop.signal })).rejects.toThrow();
    expect(await readdir(join(root, 'x'))).toEqual([]);
    expect(await readdir(root)).toEqual(['x']);
  });

  it('writes a read-only file into folders it can still write in', async () => {
    await write('A/B/one.mp4', { fileMode: 0o444 });
    await writeFile(source, Buffer.alloc(10, 1));
    await write('A/B/two.mp4', { fileMode: 0o444 });
    expect((await readdir(join(root, 'A/B'))).sort()).toEqual(['one.mp4', 'two.mp4']);
    expect((await stat(join(root, 'A'))).mode & 0o777).toBe(0o755);
  });

  it('refuses a rendered path too long to record whole', async () => {
    const error = await write(`${'a/'.repeat(600)}x.mp4`).catch((e: unknown) => e);
    expect((error as VolumeWriteError).reason).toBe('PathTooLong');
  });

  it('gives folders x wherever the file has r', () => {
    expect(folderModeFor(0o644)).toBe(0o755);
    expect(folderModeFor(0o664)).toBe(0o775);
    expect(folderModeFor(0o600)).toBe(0o700);
    expect(folderModeFor(0o444)).toBe(0o755);
  });
});

describe('removeOwnFile', () => {
  it('removes the file it wrote and the folders it made once empty, no others, not the root', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(join(root, 'Movies')));
    const { createdFolders } = await write('Movies/A/B/c.mp4');
    expect(createdFolders).toBe(2);
    const own = { size: bytes.length, sha256, createdFolders };
    expect(await removeOwnFile(root, 'Movies/A/B/c.mp4', own)).toBe('removed');
    // Movies was there before: the media server's folder stays.
    expect(await readdir(root)).toEqual(['Movies']);
    expect(await readdir(join(root, 'Movies'))).toEqual([]);
    expect(await removeOwnFile(root, 'Movies/A/B/c.mp4', own)).toBe('gone');
  });

  it("removes a killed pod's hidden copy by its name, and nothing else", async () => {
    await writeFile(join(root, '.vdl-uid-1.part'), 'partial');
    expect(await removePartial(root, '.vdl-uid-1.part')).toBe(true);
    expect(await removePartial(root, '.vdl-uid-1.part')).toBe(false);
    await expect(removePartial(root, '../placeholder')).rejects.toThrow('no hidden copy');
  });

  it('keeps a file that no longer holds the bytes the download wrote, and a folder still in use', async () => {
    await write('A/c.mp4');
    await write('A/d.mp4');
    await writeFile(join(root, 'A/c.mp4'), 'replaced by the user');
    const own = { size: bytes.length, sha256, createdFolders: 1 };
    expect(await removeOwnFile(root, 'A/c.mp4', own)).toBe('changed');
    expect(await removeOwnFile(root, 'A/d.mp4', own)).toBe('removed');
    expect(await readdir(join(root, 'A'))).toEqual(['c.mp4']);
  });

  it('refuses a path outside the volume', async () => {
    await expect(
      removeOwnFile(root, '../placeholder', { size: 0, sha256, createdFolders: 0 }),
    ).rejects.toThrow('outside');
    expect(await readdir(dir)).toContain('placeholder');
  });
});
