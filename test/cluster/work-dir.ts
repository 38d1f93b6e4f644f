// Temporary directories of control planes, each marked with the pid that owns
// it, so a run killed before its cleanup gets its leftovers removed by the next.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const prefix = 'vdl-cluster-';
const ownerFile = 'owner.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function removeAbandonedWorkDirs(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(root).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix)) continue;
    const dir = join(root, entry);
    const owner = Number.parseInt(await readFile(join(dir, ownerFile), 'utf8').catch(() => '0'), 10);
    if (owner > 0 && isAlive(owner)) continue;
    // A directory without an owner yet may be one another run is creating right now.
    const age = Date.now() - (await stat(dir)).mtimeMs;
    if (!(owner > 0) && age < 60_000) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

export async function createWorkDir(root = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(root, prefix));
  await writeFile(join(dir, ownerFile), String(process.pid));
  return dir;
}
