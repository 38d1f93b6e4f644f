// Puts a finished file onto the download's volume (spec.storage.volume) at
// its templated path: copied to a hidden name at the volume's root (one per
// download, crds/volume-path.ts), hashed and flushed on the way, given its
// mode, then linked into place, which fails rather than replaces when a file
// is already there. So a reader of the library never sees half a file, a
// crash leaves at most the hidden copy (the next attempt writes over it, the
// cleanup Job removes it), and nobody's file is overwritten.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, link, mkdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { maxVolumePathBytes, partialFileName } from '../../crds/volume-path.ts';

export interface VolumeWrite {
  size: number;
  sha256: string;
  /** The same bytes were at the path already: nothing was written, and the file is not this download's. */
  preexisting: boolean;
  /** How many folders, from the file up, this write made (the cleanup removes no others). */
  createdFolders: number;
}

/** Why writing failed, as a download failure reason; permanent unless a retry can change it. */
export class VolumeWriteError extends Error {
  readonly reason: string;
  readonly permanent: boolean;
  constructor(reason: string, message: string, permanent: boolean) {
    super(message);
    this.reason = reason;
    this.permanent = permanent;
  }
}

/**
 * Folders get the file's mode with x wherever it has r, so whoever may read
 * the file may reach it, and always rwx for their owner: a read-only file
 * mode must not leave a folder the download cannot write its file into.
 */
export function folderModeFor(fileMode: number): number {
  return (fileMode | ((fileMode & 0o444) >> 2) | 0o700) & 0o777;
}

async function sha256Of(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash, { signal });
  return hash.digest('hex');
}

/** Makes each missing folder from root down to folder, each with mode (not the umask's); how many it made. */
async function makeFolders(root: string, folder: string, mode: number): Promise<number> {
  const parts = folder.slice(root.length).split(sep).filter(Boolean);
  let current = root;
  let made = 0;
  for (const part of parts) {
    current = join(current, part);
    try {
      await mkdir(current);
      await chmod(current, mode);
      made += 1;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return made;
}

function asWriteError(error: unknown, target: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new VolumeWriteError(
      'VolumeNotWritable',
      `cannot write ${target} on the volume (${code}): its folders must be writable by storage.volume.uid/gid (uid ${process.getuid?.()}, gid ${process.getgid?.()})`,
      true,
    );
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new VolumeWriteError('VolumeFull', `the volume has no room for ${target} (${code})`, false);
  if (code === 'ENAMETOOLONG')
    return new VolumeWriteError('PathTooLong', `the path ${target} is too long for the volume`, true);
  return error;
}

/**
 * Writes source to root/relativePath with fileMode. A file already at the
 * path is left as it is: the same bytes count as written (preexisting), any
 * other bytes fail with FileExists.
 */
export async function writeToVolume(options: {
  root: string;
  relativePath: string;
  source: string;
  fileMode: number;
  /** Names the hidden copy (the download's uid), so a retried pod reuses it and the cleanup finds it. */
  tag: string;
  onProgress?: (written: number, total: number) => void;
  signal?: AbortSignal;
}): Promise<VolumeWrite> {
  const root = resolve(options.root);
  const target = resolve(root, options.relativePath);
  // The template's rendering keeps every value one segment; this keeps the path inside whatever it says.
  if (!target.startsWith(`${root}${sep}`))
    throw new VolumeWriteError('InvalidPath', `${options.relativePath} lies outside the volume`, true);
  if (Buffer.byteLength(options.relativePath) > maxVolumePathBytes)
    throw new VolumeWriteError(
      'PathTooLong',
      `the rendered path has ${Buffer.byteLength(options.relativePath)} bytes, over ${maxVolumePathBytes}: choose a shorter storage.volume.path`,
      true,
    );
  const partial = join(root, partialFileName(options.tag));
  const { size: total } = await stat(options.source);
  try {
    const createdFolders = await makeFolders(root, dirname(target), folderModeFor(options.fileMode));
    // A folder on the volume may be a symbolic link (a shared claim): the file still lands inside the volume.
    const [realRoot, realFolder] = await Promise.all([realpath(root), realpath(dirname(target))]);
    if (realFolder !== realRoot && !realFolder.startsWith(`${realRoot}${sep}`))
      throw new VolumeWriteError(
        'InvalidPath',
        `${options.relativePath} leads outside the volume (a symbolic link)`,
        true,
      );
    const hash = createHash('sha256');
    let written = 0;
    let reported = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        written += chunk.length;
        if (written - reported >= 8 * 2 ** 20) {
          reported = written;
          options.onProgress?.(written, total);
        }
        done(null, chunk);
      },
    });
    // flush: fsync before close, so a file linked into place is on the disk.
    await pipeline(createReadStream(options.source), counter, createWriteStream(partial, { flush: true }), {
      signal: options.signal,
    });
    await chmod(partial, options.fileMode);
    const sha256 = hash.digest('hex');
    options.onProgress?.(written, total);
    const placed = await placeFile(partial, target);
    if (placed) return { size: written, sha256, preexisting: false, createdFolders };
    // Only a regular file can hold the same bytes (reading a FIFO would wait for ever).
    const there = await stat(target);
    const existing =
      there.isFile() && there.size === written ? await sha256Of(target, options.signal) : undefined;
    await unlink(partial).catch(() => {});
    if (existing === sha256) return { size: written, sha256, preexisting: true, createdFolders: 0 };
    throw new VolumeWriteError(
      'FileExists',
      `${options.relativePath} already exists on the volume with other bytes; it is not overwritten (choose another storage.volume.path, or remove that file)`,
      true,
    );
  } catch (error) {
    await unlink(partial).catch(() => {});
    throw asWriteError(error, options.relativePath);
  }
}

/**
 * Links the copy into place and drops its hidden name: false when a file is
 * there already. A volume without hard links (some SMB shares) gets a rename
 * after a look, which a writer racing in between could lose to.
 */
async function placeFile(partial: string, target: string): Promise<boolean> {
  try {
    await link(partial, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    const there = await stat(target).then(
      () => true,
      () => false,
    );
    if (there) return false;
    await rename(partial, target);
    return true;
  }
  await unlink(partial);
  return true;
}
