// The data-path baseline: a large local "video" (random bytes served as
// video/mp4, which yt-dlp's generic extractor takes as a direct video) and
// plain yt-dlp downloading it to disk.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolPath } from '../toolchain/tools.ts';

const run = promisify(execFile);

export async function writeRandomVideo(path: string, megabytes: number): Promise<void> {
  const file = await open(path, 'w');
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
    await file.write(block);
  }
  await file.close();
}

/** Seconds plain yt-dlp takes to download url to a fresh directory on disk (through proxy, if given). */
export async function plainYtDlpSeconds(url: string, proxy?: string): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'vdl-plain-'));
  try {
    const started = performance.now();
    await run(toolPath('yt-dlp'), [
      '--ignore-config',
      '--no-update',
      '-q',
      ...(proxy ? ['--proxy', proxy] : []),
      '-P',
      out,
      '-o',
      'video.%(ext)s',
      url,
    ]);
    return (performance.now() - started) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}
