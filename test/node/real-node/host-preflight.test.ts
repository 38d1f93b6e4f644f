// A real node that cannot work here stops at its first step with a message
// naming the step and what to do, before it changes anything on the host.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const hostScript = fileURLToPath(new URL('./host.sh', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * host.sh up with only these commands on PATH, besides mkdir and ln (so a
 * start that skipped the preflight would make its state dir and registry).
 */
async function upWith(
  commands: Record<string, string>,
): Promise<{ code: number; stderr: string; state: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vdl-preflight-'));
  dirs.push(dir);
  const binDir = join(dir, 'bin');
  await mkdir(binDir, { recursive: true });
  for (const [name, target] of Object.entries({ mkdir: '/bin/mkdir', ln: '/bin/ln', ...commands })) {
    if (target.startsWith('#!')) {
      await writeFile(join(binDir, name), target);
      await chmod(join(binDir, name), 0o755);
    } else await symlink(target, join(binDir, name));
  }
  const state = join(dir, 'state');
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      [hostScript, 'up', '251', state],
      { env: { PATH: binDir, TMPDIR: dir } },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr, state }),
    );
  });
}

describe('the real node preflight', () => {
  it('refuses to start without root, saying so and what to use instead', async () => {
    const run = await upWith({ id: '#!/bin/sh\necho 1000\n' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/step 'preflight': a real node needs root.*VDL_TEST_NODE=process/);
    expect(existsSync(run.state)).toBe(false);
  });

  it('names a missing program and the Debian packages to install, before making anything', async () => {
    const run = await upWith({ id: '#!/bin/sh\necho 0\n' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/step 'preflight': 'ip' is missing\. Install the Debian packages: iproute2/);
    expect(existsSync(run.state)).toBe(false);
    expect(existsSync(join(run.state, '..', 'vdl-nodes'))).toBe(false);
  });
});
