// One download from start to finish: yt-dlp through the egress filter, live
// progress, upload of the file and its info JSON, and the termination
// message the operator reads. Returns the exit code; never throws for a
// failed download, only reports it.
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import type { Client } from 'minio';
import { statusMessage } from '../../crds/status-text.ts';
import { type TerminationMessage, terminationMessageText } from '../../crds/termination-message.ts';
import type { Result } from '../../crds/video-download.ts';
import { parseAllowList } from './address-policy.ts';
import type { DownloaderConfig } from './config.ts';
import { contentTypeOf } from './content-type.ts';
import { startEgressProxy } from './egress-proxy.ts';
import { type ClassifiedFailure, classifyFailure, exitCodeFor } from './failure.ts';
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
import { ensureBucket, uploadFile } from './uploader.ts';
import { allowedBytes, guardWorkDir, type WorkDirGuard } from './work-dir-guard.ts';
import { ytDlpArgs } from './yt-dlp-args.ts';

export interface DownloadOutcome {
  exitCode: number;
  message: TerminationMessage;
  /** Seconds spent in yt-dlp and in the upload, for logs and benchmarks. */
  timings?: { downloadSeconds: number; uploadSeconds: number };
}

function failed(failure: ClassifiedFailure): DownloadOutcome {
  // yt-dlp's words can carry a page's bytes and the pod's paths; status shows them to people.
  return {
    exitCode: exitCodeFor(failure),
    message: { error: { reason: failure.reason, message: statusMessage(failure.message) } },
  };
}

// S3 user metadata travels in HTTP headers: ASCII only.
function headerSafe(value: string): string {
  return encodeURIComponent(value).slice(0, 1024);
}

export async function runDownload(
  config: DownloaderConfig,
  s3: Client,
  progress: ProgressSink,
  log: (message: string) => void = () => {},
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
      },
    );
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
    }
    const { exitCode } = await child;
    clearInterval(ffmpegPoller);
    guard.stop();
    if (guard.violation) {
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
      return failed(classifyFailure(output, proxy.refusals));
    }
    const file = state.done.file;
    const { size } = await stat(file);
    if (size > config.maxFileSize) {
      return failed({
        reason: 'FileTooLarge',
        message: `the file has ${size} bytes, over the limit of ${config.maxFileSize}`,
        permanent: true,
      });
    }

    const filename = basename(file);
    const key = `${config.keyPrefix}${filename}`;
    const contentType = contentTypeOf(filename);
    const downloadSeconds = (performance.now() - began) / 1000;
    await ensureBucket(s3, config.bucket, config.s3.region);
    const started = Date.now();
    const uploaded = await uploadFile(
      s3,
      config.bucket,
      key,
      file,
      {
        'Content-Type': contentType,
        'X-Amz-Meta-Title': headerSafe(state.title ?? filename),
        'X-Amz-Meta-Source-Url': headerSafe(config.spec.url),
      },
      (sent, total) =>
        report(uploading(state, sent, total, sent / Math.max(0.001, (Date.now() - started) / 1000))),
      config.uploadRetries,
    );
    const infoFile = file.replace(/\.[^./]+$/, '.info.json');
    let infoKey: string | undefined;
    if (
      await stat(infoFile).then(
        () => true,
        () => false,
      )
    ) {
      infoKey = `${config.keyPrefix}info.json`;
      const info = JSON.parse(await readFile(infoFile, 'utf8')) as unknown;
      await writeFile(infoFile, JSON.stringify(withoutCookies(info)));
      await uploadFile(
        s3,
        config.bucket,
        infoKey,
        infoFile,
        { 'Content-Type': 'application/json' },
        () => {},
        config.uploadRetries,
      );
    }
    const result: Result = {
      bucket: config.bucket,
      key,
      filename,
      size: uploaded.size,
      sha256: uploaded.sha256,
      contentType,
      title: state.title,
      durationSeconds: state.done.duration,
      infoKey,
    };
    report({ ...uploading(state, uploaded.size, uploaded.size), stage: 'done', percent: 100 }, true);
    const uploadSeconds = (Date.now() - started) / 1000;
    return { exitCode: 0, message: { result }, timings: { downloadSeconds, uploadSeconds } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`download failed: ${message}`);
    return failed({ reason: 'UploadFailed', message, permanent: false });
  } finally {
    guard?.stop();
    clearInterval(ffmpegPoller);
    await progress.flush();
    await proxy.close();
  }
}

export async function writeTerminationMessage(path: string, message: TerminationMessage): Promise<void> {
  await writeFile(path, terminationMessageText(message));
}
