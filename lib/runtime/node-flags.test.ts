import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { programArgs } from './node-flags.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe.each(['operator', 'api', 'downloader'] as const)('the %s node command line', (program) => {
  const dockerfile = readFileSync(join(root, `images/${program}/Dockerfile`), 'utf8');

  it('is the one its image ENTRYPOINT runs', () => {
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? '[]';
    expect(JSON.parse(entrypoint)).toEqual(['/usr/local/bin/node', ...programArgs(program, '/app')]);
  });

  // Node keeps a compile cache per set of V8 flags: the build must compile with the program's.
  it('is the one its image fills the compile cache with', () => {
    const warmup = /^RUN VDL_COMPILE_CACHE_WARMUP=1 (.*)$/m.exec(dockerfile)?.[1];
    expect(warmup).toBe(['/usr/local/bin/node', ...programArgs(program, '/app')].join(' '));
  });

  it('with VDL_COMPILE_CACHE_WARMUP=1 compiles the program into the cache and stops', {
    timeout: 60_000,
  }, () => {
    const cache = mkdtempSync(join(tmpdir(), 'vdl-compile-cache-'));
    execFileSync(process.execPath, programArgs(program, root), {
      env: { PATH: process.env.PATH, VDL_COMPILE_CACHE_WARMUP: '1', NODE_COMPILE_CACHE: cache },
      timeout: 60_000,
    });
    const [dir] = readdirSync(cache);
    // Every module it imports: the downloader has fewer (no @kubernetes/client-node).
    expect(readdirSync(join(cache, dir as string)).length).toBeGreaterThan(
      program === 'downloader' ? 50 : 100,
    );
  });
});
