// Uploads the file yt-dlp is writing while it grows: each whole part is sent
// to the multipart upload as soon as it is on disk, hashed in order, so when
// yt-dlp ends only the last part and the completion remain. What qualifies,
// and when the parts sent may be kept, tail-upload-policy.ts decides; in
// doubt the finished file is sent whole over the same part numbers.
import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { PresignedUpload } from '../../crds/upload-plan.ts';
import { type FileIdentity, type TailVerdict, tailVerdict } from './tail-upload-policy.ts';
import { InOrderHash, sendPart, sendRest, type UploadOptions, type UploadResult } from './uploader.ts';

/** How often the growing file's size is looked at (a stat; far cheaper than the part it waits for). */
const pollMs = 25;

export interface TailUpload {
  /** yt-dlp is writing this file (from its progress lines); another one than before ends the following. */
  writing(file: string): void;
  /** yt-dlp retried or restarted a transfer: the parts sent may not be the finished file's. */
  refetched(): void;
  /** Parts sent while the file grew, and their bytes. */
  readonly partsSent: number;
  readonly sentBytes: number;
  /**
   * After yt-dlp ended well: sends the rest of the finished file and
   * completes the upload, or answers why the parts sent cannot be kept
   * (the caller then uploads the file whole).
   */
  finish(
    finalFile: string,
    onProgress: (sent: number, total: number) => void,
  ): Promise<{ uploaded: UploadResult } | { verdict: Exclude<TailVerdict, { complete: true }> }>;
  /** Stops following (a failed or stopped download) and waits for the part in flight. */
  stop(): Promise<void>;
}

export function startTailUpload(upload: PresignedUpload, options: UploadOptions): TailUpload {
  let followed: { path: string; handle: FileHandle; identity: FileIdentity } | undefined;
  let wanted: string | undefined;
  let abandoned: string | undefined;
  let refetched = false;
  let ending = false;
  const etags: string[] = [];
  const hash = new InOrderHash();
  let loop: Promise<void> | undefined;
  const abandon = (why: string) => {
    abandoned ??= why;
  };
  let closed = false;
  const close = async () => {
    if (closed || !followed) return;
    closed = true;
    await followed.handle.close();
  };

  async function follow(path: string): Promise<void> {
    const handle = await open(path, 'r');
    const { dev, ino } = await handle.stat();
    followed = { path, handle, identity: { dev, ino } };
    while (!abandoned && !options.signal?.aborted) {
      const { size } = await handle.stat();
      if (size < hash.bytes) return abandon('the file shrank while it was written');
      // A part is sent once the bytes after it exist too: the last part stays for finish, whatever its size.
      const start = etags.length * upload.partSize;
      // Once yt-dlp has ended, finish sends the rest (with the upload's progress shown).
      if (ending) return;
      if (size > start + upload.partSize && etags.length < upload.parts.length - 1) {
        etags.push(
          await sendPart(upload, etags.length, handle, { start, length: upload.partSize }, hash, options),
        );
        continue;
      }
      await delay(pollMs, undefined, { signal: options.signal }).catch(() => {});
    }
  }

  const settle = async () => {
    ending = true;
    await loop;
  };

  return {
    writing(file) {
      if (wanted === undefined) {
        wanted = file;
        // A small file may be finished and renamed before it is opened: then it is sent whole.
        loop = follow(file).catch((error: unknown) => {
          if (!options.signal?.aborted) abandon(`following the file failed: ${String(error)}`);
        });
        return;
      }
      if (file !== wanted) abandon('yt-dlp began writing another file');
    },
    refetched() {
      refetched = true;
    },
    get partsSent() {
      return etags.length;
    },
    get sentBytes() {
      return etags.length * upload.partSize;
    },
    async finish(finalFile, onProgress) {
      await settle();
      try {
        const final = await stat(finalFile);
        const verdict = followed
          ? tailVerdict({
              followed: followed.identity,
              final: { dev: final.dev, ino: final.ino, size: final.size },
              sent: hash.bytes,
              abandoned,
              refetched,
            })
          : ({ complete: false, why: abandoned ?? 'the file was never opened' } as const);
        if (!verdict.complete || !followed) return { verdict: verdict as { complete: false; why: string } };
        onProgress(hash.bytes, final.size);
        return {
          uploaded: await sendRest(upload, followed.handle, final.size, { etags, hash }, onProgress, options),
        };
      } finally {
        await close();
      }
    },
    async stop() {
      abandon('stopped');
      await settle();
      await close();
    },
  };
}
