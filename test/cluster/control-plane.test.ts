import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MissingToolError } from '../toolchain/tools.ts';
import { startControlPlane } from './control-plane.ts';

describe('startControlPlane without its tools', () => {
  const saved = process.env.VDL_TOOLS_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.VDL_TOOLS_DIR;
    else process.env.VDL_TOOLS_DIR = saved;
  });

  it('fails loudly, naming the missing tool, and leaves no files behind', async () => {
    process.env.VDL_TOOLS_DIR = mkdtempSync(join(tmpdir(), 'vdl-empty-tools-'));
    const dir = mkdtempSync(join(tmpdir(), 'vdl-cp-dir-'));
    const workDirs = () => readdirSync(tmpdir()).filter((entry) => entry.startsWith('vdl-cluster-'));
    const before = workDirs();
    await expect(startControlPlane({ minio: false })).rejects.toThrow(MissingToolError);
    await expect(startControlPlane({ minio: false })).rejects.toThrow(/etcd is not installed/);
    expect(workDirs().filter((entry) => !before.includes(entry))).toEqual([]);
    await expect(startControlPlane({ dir, minio: false })).rejects.toThrow(MissingToolError);
  });
});
