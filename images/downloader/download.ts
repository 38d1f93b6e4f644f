// One download from start to finish: yt-dlp through the egress filter, live
// progress, upload of the file and its info JSON, and the termination
// message the operator reads. Returns the exit code; never throws for a
// failed download, only reports it.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { statusMessage } from '../../crds/status-text.ts';
import { type TerminationMessage, terminationMessageText } from '../../crds/termination-message.ts';
import type { Result } from '../../crds/video-download.ts';
import { renderVolumePath } from '../../crds/volume-path.ts';
import { parseAllowList } from '../../lib/net/address-policy.ts';
import type { DownloaderConfig } from './config.ts';
import { contentTypeOf } from './content-type.ts';
import { startEgressProxy } from './egress-proxy.ts';
import { type ClassifiedFailure, classifyFailure, exitCodeFor, stopsAtOnce } from './failure.ts';
import { withoutCookies } from './info-json.ts';
import { killTree } from './process-tree.ts';
import {
  advance,
  initialProgress,
  type ProgressState,
  parseFfmpegProgress,
  parseLine,
  postprocessing,
  toStatusProgress,
  uploading,
} from './progress.ts';
import type { ProgressSink } from './progress-reporter.ts';
import { skippedStep } from './skipped-steps.ts';
import { startTailUpload, type TailUpload } from './tail-upload.ts';
import { saysRefetched, streamability } from './tail-upload-policy.ts';
import { abortUpload, type UploadResult, uploadFile } from './uploader.ts';
import { VolumeWriteError, writeToVolume } from './volume-writer.ts';
import { allowedBytes, guardWorkDir, type WorkDirGuard } from './work-dir-guard.ts';
import { ytDlpArgs } from './yt-dlp-args.ts';

export interface DownloadOutcome {
  exitCode: number;
  message: TerminationMessage;
  /** Stopped by SIGTERM: nothing more is written, not even the termination message. */
  stopped?: boolean;
  /**
   * Seconds spent in yt-dlp and in the upload after it, and the parts sent
   * while yt-dlp still wrote the file, for logs and benchmarks.
   */
  timings?: { downloadSeconds: number; uploadSeconds: number; streamedParts: number };
}

function stopped(): DownloadOutcome {
  return {
    exitCode: stoppedExitCode,
    stopped: true,
    message: { error: { reason: 'Stopped', message: 'stopped by SIGTERM' } },
  };
}

function failed(failure: ClassifiedFailure): DownloadOutcome {
  // yt-dlp's words can carry a page's bytes and the pod's paths; status shows them to people.
  return {
    exitCode: exitCodeFor(failure),
    message: { error: { reason: failure.reason, message: statusMessage(failure.message) } },
  };
}

/**
 * Names the hidden copy on a volume: the download's uid (as the operator's
 * cleanup Job names it), so each attempt writes over the last one's; a hash
 * of the name where no uid was given (a test harness).
 */
function partialTagFor(download: { namespace: string; name: string; uid?: string | undefined }): string {
  return (
    download.uid ??
    createHash('sha256').update(`${download.namespace}/${download.name}`).digest('hex').slice(0, 12)
  );
}

/** The exit code of a downloader stopped by SIGTERM (128 + 15, as a shell reports it). */
export const stoppedExitCode = 143;

/**
 * signal is aborted on SIGTERM: yt-dlp and ffmpeg are killed, an upload in
 * flight is cut where it stands and left for the Job's next pod (a stop may
 * be an eviction; the operator aborts what is left once the download ends),
 * and nothing more is written (no progress, no result).
 */
export async function runDownload(
  config: DownloaderConfig,
  progress: ProgressSink,
  log: (message: string) => void = () => {},
  signal?: AbortSignal,
): Promise<DownloadOutcome> {
  const outDir = join(config.workDir, 'out');
  const eventsFile = join(config.workDir, 'events.jsonl');
  const ffmpegProgressFile = join(config.workDir, 'ffmpeg-progress');
  await mkdir(outDir, { recursive: true });
  // yt-dlp writes its cookie jar back when it ends; the mounted Secret is read-only.
  const cookiesFile = config.cookiesFile ? join(config.workDir, 'cookies.txt') : undefined;
  if (config.cookiesFile && cookiesFile) await copyFile(config.cookiesFile, cookiesFile);
  const proxy = await startEgressProxy({ allowed: parseAllowList(config.egressAllow) }, config.hosts);
  let state: ProgressState = initialProgress();
  const report = (next: ProgressState, force = false) => {
    if (signal?.aborted) return;
    const stageChanged = next.stage !== state.stage;
    state = next;
    progress.report(toStatusProgress(state, new Date()), force || stageChanged);
  };
  let output = '';
  let plannedRead = false;
  const began = performance.now();
  // While ffmpeg works yt-dlp prints nothing: its progress file is read instead.
  const readFfmpegProgress = async () => {
    if (state.stage !== 'merging') return;
    const ffmpeg = parseFfmpegProgress(await readFile(ffmpegProgressFile, 'utf8').catch(() => ''));
    if (ffmpeg) report(postprocessing(state, ffmpeg));
  };
  // yt-dlp runs in a process group of its own, so a stop kills ffmpeg with it.
  let ytDlpPid: number | undefined;
  const killYtDlp = () => {
    if (ytDlpPid === undefined) return;
    try {
      process.kill(-ytDlpPid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // The file's upload while yt-dlp writes it, when its output qualifies (tail-upload-policy.ts).
  let tail: TailUpload | undefined;
  let tailDecided = false;
  let refetched = false;
  let lastDownloaded = -1;
  const follow = (line: { tmpfile?: string; downloaded?: number }) => {
    if (!tailDecided && state.plan && config.upload) {
      tailDecided = true;
      const plan = { format: state.plan.streams.join('+'), protocol: state.plan.protocol };
      const verdict = streamability(config.spec, plan);
      if (verdict.streamable) {
        tail = startTailUpload(config.upload.file, { retries: config.uploadRetries, signal });
      } else log(`uploading once the file is finished: ${verdict.why}`);
    }
    if (!tail || !line.tmpfile) return;
    // Only the media file: subtitles are fetched the same way, before it.
    const file = resolve(line.tmpfile);
    if (!file.startsWith(`${resolve(outDir)}${sep}`) || !file.endsWith(`.${state.plan?.ext}.part`)) return;
    // A restart from byte 0 in place (the server ignored the range) shows as fewer bytes than before.
    if (line.downloaded !== undefined && line.downloaded < lastDownloaded) tail.refetched();
    lastDownloaded = line.downloaded ?? lastDownloaded;
    if (refetched) tail.refetched();
    tail.writing(file);
  };
  /**
   * A download that ends without a file. When no retry will use its uploads
   * (a permanent failure fails the Job at once), they are aborted with the
   * parts sent while it ran; a retry sends its parts again over them.
   */
  const dropTail = async (permanent: boolean) => {
    await tail?.stop();
    if (!permanent || !config.upload) return;
    const { file, info } = config.upload;
    await Promise.all([abortUpload(file), abortUpload(info)]).catch(() => {});
    if (tail) {
      const parts = tail.partsSent;
      log(`aborted the uploads after ${parts} part${parts === 1 ? '' : 's'} sent while downloading`);
    }
  };
  let polling = false;
  const ffmpegPoller = setInterval(() => {
    if (polling) return;
    polling = true;
    void readFfmpegProgress().finally(() => {
      polling = false;
    });
  }, 500);
  let guard: WorkDirGuard | undefined;
  try {
    report(state, true);
    const child = execa(
      config.ytDlp,
      ytDlpArgs({
        spec: config.spec,
        workDir: outDir,
        maxFileSize: config.maxFileSize,
        proxyUrl: proxy.url,
        eventsFile,
        ffmpegProgressFile,
        cookiesFile,
        rateLimit: config.rateLimit,
      }),
      {
        all: true,
        buffer: false,
        reject: false,
        stdin: 'ignore',
        // yt-dlp parses untrusted pages: it gets no credentials, only what it needs to run.
        extendEnv: false,
        env: { PATH: process.env.PATH, HOME: config.workDir, LANG: 'C.UTF-8', TMPDIR: config.workDir },
        detached: true,
      },
    );
    ytDlpPid = child.pid;
    signal?.addEventListener('abort', killYtDlp, { once: true });
    if (signal?.aborted) killYtDlp();
    guard = guardWorkDir({
      workDir: config.workDir,
      eventsFile,
      maxFileSize: config.maxFileSize,
      allowed: () => allowedBytes(state.stage, config.maxFileSize, config.workDirLimit),
      onViolation: () => void killTree(child.pid),
    });
    for await (const line of child.iterable({ from: 'all' })) {
      const text = String(line);
      const parsed = parseLine(text);
      if (!parsed) {
        if (stopsAtOnce(text)) void killTree(child.pid);
        const skipped = skippedStep(text);
        if (skipped) log(`asked for, but skipped: ${skipped}`);
        if (saysRefetched(text)) {
          refetched = true;
          tail?.refetched();
        }
        output += `${text}\n`;
        if (output.length > 64_000) output = output.slice(-32_000);
        continue;
      }
      if (!plannedRead && parsed.kind === 'download') {
        // The plan line was written before the download started; it weights the streams.
        plannedRead = true;
        for (const event of (await readFile(eventsFile, 'utf8').catch(() => '')).split('\n')) {
          const plan = parseLine(event);
          if (plan?.kind === 'plan') state = advance(state, plan);
        }
      }
      // A finished post-processor's last figures are read before the next stage shows.
      if (parsed.kind === 'postprocess' && parsed.status === 'finished') await readFfmpegProgress();
      report(advance(state, parsed));
      if (parsed.kind === 'download') follow(parsed);
    }
    const { exitCode } = await child;
    clearInterval(ffmpegPoller);
    if (signal?.aborted) {
      // Stopped while yt-dlp ran (a cancel, or a pod evicted or replaced): the uploads stay for a
      // replacement pod, which sends its parts again, or for the operator once the download ends.
      await tail?.stop();
      return stopped();
    }
    guard.stop();
    if (guard.violation) {
      await dropTail(true);
      // Free the disk before the kubelet measures it: the failure is the guard's to report.
      await rm(outDir, { recursive: true, force: true });
      log(`stopped yt-dlp: ${guard.violation.message} (work dir reached ${guard.largestBytes} bytes)`);
      return failed({ ...guard.violation, permanent: true });
    }
    for (const event of (await readFile(eventsFile, 'utf8').catch(() => '')).split('\n')) {
      const done = parseLine(event);
      if (done?.kind === 'done') state = advance(state, done);
    }
    if (exitCode !== 0 || !state.done) {
      log(`yt-dlp exited ${exitCode}: ${output.slice(-2000)}`);
      const failure = classifyFailure(output, proxy.refusals);
      await dropTail(failure.permanent);
      return failed(failure);
    }
    const file = state.done.file;
    const { size } = await stat(file);
    if (size > config.maxFileSize) {
      await dropTail(true);
      return failed({
        reason: 'FileTooLarge',
        message: `the file has ${size} bytes, over the limit of ${config.maxFileSize}`,
        permanent: true,
      });
    }

    const filename = basename(file);
    const { upload, volume } = config;
    const contentType = contentTypeOf(filename);
    const downloadSeconds = (performance.now() - began) / 1000;
    const started = Date.now();
    const onUploadProgress = (sent: number, total: number) =>
      report(uploading(state, sent, total, sent / Math.max(0.001, (Date.now() - started) / 1000)));
    const finish = (result: Result, uploadedSize: number): DownloadOutcome => {
      // The result rides on the last progress patch: the operator, once it finds the file stored,
      // records DONE without waiting for this pod to exit (the termination message stays the fallback).
      state = { ...uploading(state, uploadedSize, uploadedSize), stage: 'done', percent: 100 };
      if (!signal?.aborted) progress.report({ ...toStatusProgress(state, new Date()), result }, true);
      const uploadSeconds = (Date.now() - started) / 1000;
      return {
        exitCode: 0,
        message: { result },
        timings: { downloadSeconds, uploadSeconds, streamedParts: tail?.partsSent ?? 0 },
      };
    };
    if (volume) {
      const infoText = await readFile(file.replace(/\.[^./]+$/, '.info.json'), 'utf8').catch(() => undefined);
      // Without it every field renders NA: said in the log, where a user looks for the odd name.
      if (infoText === undefined) log('no info JSON beside the file: every {field} of the path is NA');
      const info = JSON.parse(infoText ?? '{}') as Record<string, unknown>;
      const relativePath = renderVolumePath(volume.path, info, extname(filename).slice(1));
      try {
        const written = await writeToVolume({
          root: volume.root,
          relativePath,
          source: file,
          fileMode: volume.fileMode,
          tag: partialTagFor(config.download),
          onProgress: onUploadProgress,
          signal,
        });
        log(
          `wrote ${relativePath} on volume ${volume.claimName}${written.preexisting ? ' (the same bytes were there)' : ''}`,
        );
        return finish(
          {
            volume: {
              claimName: volume.claimName,
              path: relativePath,
              createdFolders: written.createdFolders,
              ...(written.preexisting ? { preexisting: true } : {}),
            },
            filename: basename(relativePath),
            size: written.size,
            sha256: written.sha256,
            contentType,
            title: state.title,
            durationSeconds: state.done.duration,
          },
          written.size,
        );
      } catch (error) {
        if (signal?.aborted) return stopped();
        if (error instanceof VolumeWriteError) return failed(error);
        throw error;
      }
    }
    if (!upload) throw new Error('no upload plan and no volume: nowhere to store the file');
    let uploaded: UploadResult | undefined;
    if (tail) {
      onUploadProgress(tail.sentBytes, size);
      const finished = await tail.finish(file, onUploadProgress);
      if ('uploaded' in finished) uploaded = finished.uploaded;
      else log(`sending the whole file again: ${finished.verdict.why}`);
    }
    uploaded ??= await uploadFile(upload.file, file, onUploadProgress, {
      retries: config.uploadRetries,
      signal,
    });
    const infoFile = file.replace(/\.[^./]+$/, '.info.json');
    let infoKey: string | undefined;
    if (
      await stat(infoFile).then(
        () => true,
        () => false,
      )
    ) {
      infoKey = upload.info.key;
      const info = JSON.parse(await readFile(infoFile, 'utf8')) as unknown;
      await writeFile(infoFile, JSON.stringify(withoutCookies(info)));
      await uploadFile(upload.info, infoFile, () => {}, { retries: config.uploadRetries, signal });
    } else {
      // Unused: no open upload should outlive the download.
      await abortUpload(upload.info).catch(() => {});
    }
    const result: Result = {
      bucket: upload.bucket,
      key: upload.file.key,
      filename,
      size: uploaded.size,
      sha256: uploaded.sha256,
      contentType,
      title: state.title,
      durationSeconds: state.done.duration,
      infoKey,
    };
    return finish(result, uploaded.size);
  } catch (error) {
    // Stopped or failed mid-upload, the uploads stay for the Job's next pod (or the operator's abort).
    await tail?.stop();
    if (signal?.aborted) return stopped();
    const message = error instanceof Error ? error.message : String(error);
    log(`download failed: ${message}`);
    return failed({ reason: 'UploadFailed', message, permanent: false });
  } finally {
    guard?.stop();
    clearInterval(ffmpegPoller);
    signal?.removeEventListener('abort', killYtDlp);
    // Stopped: the last progress is not sent (the download is being cancelled or its pod replaced).
    if (!signal?.aborted) await progress.flush();
    await proxy.close();
  }
}

export async function writeTerminationMessage(path: string, message: TerminationMessage): Promise<void> {
  await writeFile(path, terminationMessageText(message));
}
