// The program inside each download Job: reads its configuration from the
// environment, downloads, uploads, writes the termination message and exits
// 0 (success), 42 (permanent failure: the Job fails at once) or 1 (retry).
import '../../lib/runtime/compile-cache-warmup.ts';
import { pino } from 'pino';
import { loadDownloaderConfig } from './config.ts';
import { runDownload, writeTerminationMessage } from './download.ts';
import { statusProgressSink } from './progress-reporter.ts';
import { statusPatcher } from './status-patch.ts';

const logger = pino({ base: { component: 'vdl-downloader' } });
const config = loadDownloaderConfig();
const patchStatus = statusPatcher({
  apiServer: config.apiServer,
  caFile: config.caFile,
  tokenFile: config.tokenFile,
  ...config.download,
});

const progress = statusProgressSink(patchStatus, (error) =>
  // Progress is best effort: the result still reaches the operator through the termination message.
  logger.warn({ err: String(error) }, 'could not write progress'),
);
// As PID 1 of its container, nothing stops it on SIGTERM but this: the pod
// is being deleted (a cancel) or replaced, so yt-dlp and ffmpeg are killed,
// the upload request in flight is cut (the upload stays for the next pod), and the program exits promptly.
const stop = new AbortController();
process.once('SIGTERM', () => {
  logger.info('SIGTERM: stopping');
  stop.abort();
});
const outcome = await runDownload(config, progress, (message) => logger.info(message), stop.signal);
if (!outcome.stopped) await writeTerminationMessage(config.terminationLog, outcome.message);
logger.info(
  { exitCode: outcome.exitCode, statusWrites: progress.writes, ...outcome.timings, ...outcome.message },
  'finished',
);
process.exit(outcome.exitCode);
