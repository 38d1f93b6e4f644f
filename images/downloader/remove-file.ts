// The cleanup Job's program (operator: volume-output.ts): removes a deleted
// download's file from its volume, but only while it holds the bytes the
// download wrote, so a file the user replaced since stays; then the folders
// the removal left empty, up to the volume's root. Exits 0 when the file is
// gone either way, 1 to be retried.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { volumePathOutside } from '../../crds/volume-path.ts';

export type Removal = 'removed' | 'gone' | 'changed';

/** Removes root/path if it still has size bytes hashing to sha256, then its emptied folders. */
export async function removeOwnFile(
  root: string,
  path: string,
  expected: { size: number; sha256: string },
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
  // rmdir removes only empty folders: one still holding anything ends the climb.
  for (let folder = dirname(target); folder.startsWith(`${base}${sep}`); folder = dirname(folder)) {
    if (
      !(await rmdir(folder).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
  return 'removed';
}

if (import.meta.main) {
  const { VDL_VOLUME_DIR, VDL_REMOVE_PATH, VDL_REMOVE_SIZE, VDL_REMOVE_SHA256 } = process.env;
  if (!VDL_VOLUME_DIR || !VDL_REMOVE_PATH || !VDL_REMOVE_SIZE || !VDL_REMOVE_SHA256) {
    console.error(
      'remove-file: VDL_VOLUME_DIR, VDL_REMOVE_PATH, VDL_REMOVE_SIZE and VDL_REMOVE_SHA256 must be set',
    );
    process.exit(2);
  }
  try {
    const removal = await removeOwnFile(VDL_VOLUME_DIR, VDL_REMOVE_PATH, {
      size: Number(VDL_REMOVE_SIZE),
      sha256: VDL_REMOVE_SHA256,
    });
    const said = {
      removed: 'removed',
      gone: 'already gone',
      changed: 'kept: it no longer holds the bytes the download wrote',
    }[removal];
    console.log(JSON.stringify({ path: VDL_REMOVE_PATH, removal, message: `${VDL_REMOVE_PATH}: ${said}` }));
  } catch (error) {
    console.error(`remove-file: ${VDL_REMOVE_PATH}: ${(error as Error).message}`);
    process.exit(1);
  }
}
