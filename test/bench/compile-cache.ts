// The compile cache the operator's and the API's images ship
// (images/*/Dockerfile), made here for the bench's own runs of the programs:
// without it a started program strips its TypeScript and keeps Node's type
// stripper in memory, which no deployed one does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Program } from '../../lib/runtime/node-flags.ts';

/** Fills a new cache for each program run with these node flags; its NODE_COMPILE_CACHE. */
export function warmCompileCache(root: string, runs: Array<{ program: Program; flags: string[] }>): string {
  const cache = mkdtempSync(join(tmpdir(), 'vdl-compile-cache-'));
  for (const { program, flags } of runs)
    execFileSync(process.execPath, [...flags, join(root, program, 'main.ts')], {
      env: { PATH: process.env.PATH, VDL_COMPILE_CACHE_WARMUP: '1', NODE_COMPILE_CACHE: cache },
      timeout: 120_000,
    });
  return cache;
}
