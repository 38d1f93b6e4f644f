import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = new URL('./missing-packages.sh', import.meta.url).pathname;
const bash = execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();

/** A PATH holding only the given commands (stubs that succeed), plus what the script itself runs. */
function pathWith(commands: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'vdl-path-'));
  for (const tool of ['sort']) {
    symlinkSync(
      execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
      join(dir, tool),
    );
  }
  for (const command of commands) {
    writeFileSync(join(dir, command), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, command), 0o755);
  }
  return dir;
}

/** A file tree with the files the script looks for (CNI plugins, libc.a, PostgreSQL's server), or without them. */
function filesRoot(present: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'vdl-root-'));
  if (present) {
    mkdirSync(join(dir, 'usr/lib/cni'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/cni/bridge'), '');
    chmodSync(join(dir, 'usr/lib/cni/bridge'), 0o755);
    mkdirSync(join(dir, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/x86_64-linux-gnu/libc.a'), '');
    mkdirSync(join(dir, 'usr/lib/postgresql/15/bin'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/postgresql/15/bin/initdb'), '');
  }
  return dir;
}

function run(commands: string[], files = true) {
  const result = spawnSync(bash, [script], {
    env: { PATH: pathWith(commands), VDL_CHECK_ROOT: filesRoot(files) },
    encoding: 'utf8',
  });
  return {
    status: result.status,
    packages: result.stdout.split('\n').filter(Boolean),
    stderr: result.stderr,
  };
}

const realNode = ['containerd', 'ctr', 'runc', 'buildah', 'debootstrap', 'nft', 'ip', 'nsenter', 'gcc'];
const everything = [
  ...['openssl', 'setpriv', 'ffmpeg', 'ffprobe', 'make', 'python3', 'chromium', 'node', 'npm'],
  ...realNode,
];

describe('missing-packages.sh (what .ci/run installs)', () => {
  it('names nothing on a machine that has every command', () => {
    expect(run(everything)).toMatchObject({ status: 0, packages: [] });
  });

  it("names only the missing commands' packages, never npm beside an existing Node", () => {
    const fresh = run(everything.filter((c) => !['chromium', 'ffmpeg', 'ffprobe'].includes(c)));
    expect(fresh.status).toBe(0);
    expect(fresh.packages).toEqual(['chromium', 'ffmpeg']);
  });

  it("names the real node's packages on a machine that has none of them", () => {
    const fresh = run(
      everything.filter((c) => !realNode.includes(c)),
      false,
    );
    expect(fresh.packages).toEqual(
      [
        'buildah',
        'containerd',
        'containernetworking-plugins',
        'debootstrap',
        'gcc',
        'iproute2',
        'libc6-dev',
        'nftables',
        'postgresql',
        'runc',
        'util-linux',
      ].sort(),
    );
  });

  it('names python3-venv when venv or ensurepip cannot be imported', () => {
    const dir = pathWith(everything.filter((c) => c !== 'python3'));
    writeFileSync(join(dir, 'python3'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(dir, 'python3'), 0o755);
    const result = spawnSync(bash, [script], {
      env: { PATH: dir, VDL_CHECK_ROOT: filesRoot(true) },
      encoding: 'utf8',
    });
    expect(result.stdout.trim()).toBe('python3-venv');
  });

  it("installs Debian's nodejs with its npm only where there is no Node at all", () => {
    expect(run(everything.filter((c) => c !== 'node' && c !== 'npm')).packages).toEqual(['nodejs', 'npm']);
    const noNpm = run(everything.filter((c) => c !== 'npm'));
    expect(noNpm.status).toBe(3);
    expect(noNpm.stderr).toMatch(/without npm/);
  });
});
