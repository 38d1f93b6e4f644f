// The cleanup Job's program (operator: volume-output.ts): removes a deleted
// download's hidden copy (left by a pod killed mid-write), and its file, but
// only while that holds the bytes the download wrote, so a file the user
// replaced since stays; then the folders the download made for it, once
// empty. Exits 0 when all is gone either way, 1 to be retried.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { volumePathOutside } from '../../crds/volume-path.ts';

export type Removal = 'removed' | 'gone' | 'changed';

/**
 * Removes root/path if it still has size bytes hashing to sha256, then up to
 * createdFolders of its folders, each only while empty.
 */
export async function removeOwnFile(
  root: string,
  path: string,
  expected: { size: number; sha256: string; createdFolders: number },
): Promise<Removal> {
  const outside = volumePathOutside(path);
  if (outside) throw new Error(outside);
  const base = resolve(root);
  const target = resolve(base, path);
  if (!target.startsWith(`${base}${sep}`)) throw new Error(`${path} lies outside the volume`);
  const found = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!found) return 'gone';
  if (!found.isFile() || found.size !== expected.size) return 'changed';
  const hash = createHash('sha256');
  await pipeline(createReadStream(target), hash);
  if (hash.digest('hex') !== expected.sha256) return 'changed';
  await unlink(target);
  // Only folders the download made; rmdir takes only empty ones, and one still in use ends the climb.
  let folder = dirname(target);
  for (let left = expected.createdFolders; left > 0 && folder.startsWith(`${base}${sep}`); left -= 1) {
    const removed = await rmdir(folder).then(
      () => true,
      () => false,
    );
    if (!removed) break;
    folder = dirname(folder);
  }
  return 'removed';
}

/** Removes a hidden copy (a name at the volume's root) a killed pod left; true if there was one. */
export async function removePartial(root: string, name: string): Promise<boolean> {
  if (!/^\.vdl-[A-Za-z0-9-]+\.part$/.test(name)) throw new Error(`${name} is no hidden copy of a download`);
  return unlink(resolve(root, name)).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

const said: Record<Removal, string> = {
  removed: 'removed',
  gone: 'already gone',
  changed: 'kept: it no longer holds the bytes the download wrote',
};

if (import.meta.main) {
  const env = process.env;
  if (!env.VDL_VOLUME_DIR || !env.VDL_REMOVE_PARTIAL) {
    console.error('remove-file: VDL_VOLUME_DIR and VDL_REMOVE_PARTIAL must be set');
    process.exit(2);
  }
  try {
    const partialRemoved = await removePartial(env.VDL_VOLUME_DIR, env.VDL_REMOVE_PARTIAL);
    const removal = env.VDL_REMOVE_PATH
      ? await removeOwnFile(env.VDL_VOLUME_DIR, env.VDL_REMOVE_PATH, {
          size: Number(env.VDL_REMOVE_SIZE),
          sha256: env.VDL_REMOVE_SHA256 ?? '',
          createdFolders: Number(env.VDL_REMOVE_FOLDERS ?? 0),
        })
      : undefined;
    const message = removal ? `${env.VDL_REMOVE_PATH}: ${said[removal]}` : 'no file of its own to remove';
    console.log(JSON.stringify({ path: env.VDL_REMOVE_PATH, removal, partialRemoved, message }));
  } catch (error) {
    console.error(
      `remove-file: ${env.VDL_REMOVE_PATH ?? env.VDL_REMOVE_PARTIAL}: ${(error as Error).message}`,
    );
    process.exit(1);
  }
}
